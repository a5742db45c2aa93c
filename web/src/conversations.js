// Conversation windows and their room sockets: history and resume, sending, typing, nudges, winks, streaming bot
// replies, delivery/read receipts, unread counts and window management (focus, minimise, drag).
import { api } from './api.js';
import { ReconnectingSocket, wsUrl } from './socket.js';
import { state, changed, toast, userName, dmPeer, dmRoomId } from './store.js';
import { playDing, playRumble, playSparkle } from './sound.js';
import { sessionEnded, probeSession } from './session.js';
import { WINK_MS } from './art/winks.js';

const MAX_CONTENT = 2048;
const TYPING_RESEND_MS = 2000;
const TYPING_SHOW_MS = 6000;
const SHAKE_MS = 800;
const STATUS_RANK = { sending: 0, sent: 1, delivered: 2, read: 3 };

let cascade = 0;

export const isDm = (roomId) => roomId.startsWith('dm_');

export function convTitle(conv) {
  if (conv.kind === 'dm') return userName(conv.peerId, conv.peerId);
  const room = state.rooms.find((r) => r.id === conv.roomId);
  return (room && room.name) || conv.roomId;
}

function viewport() {
  return { w: window.innerWidth || 1024, h: (window.innerHeight || 768) - 34 };
}

function remember() {
  const list = [...state.convs.values()].map((c) => ({ roomId: c.roomId, minimized: c.minimized }));
  sessionStorage.setItem('switchboard.windows', JSON.stringify(list));
}

export function rememberedWindows() {
  try {
    const list = JSON.parse(sessionStorage.getItem('switchboard.windows') || '[]');
    return Array.isArray(list) ? list.filter((w) => w && typeof w.roomId === 'string') : [];
  } catch {
    return [];
  }
}

export function isConvFocused(conv) {
  return (
    state.focused === conv.roomId &&
    !conv.minimized &&
    document.visibilityState === 'visible' &&
    (typeof document.hasFocus !== 'function' || document.hasFocus())
  );
}

export function openConversation(roomId, { focus = true, minimized = false } = {}) {
  let conv = state.convs.get(roomId);
  if (conv) {
    if (focus) focusWindow(roomId);
    else if (!minimized && conv.minimized) {
      conv.minimized = false;
      changed();
    }
    return conv;
  }
  const vp = viewport();
  const w = Math.min(540, vp.w - 20);
  const h = Math.min(470, vp.h - 20);
  const i = cascade++ % 6;
  const x = Math.max(10, Math.min(vp.w - w - 10, 330 + i * 30));
  const y = Math.max(10, Math.min(vp.h - h - 10, 24 + i * 28));
  conv = {
    roomId,
    kind: isDm(roomId) ? 'dm' : 'group',
    peerId: isDm(roomId) ? dmPeer(roomId) : null,
    items: [],
    byId: new Map(),
    typing: new Map(),
    participants: [],
    conn: 'connecting',
    minimized,
    maximized: false,
    pos: { x, y, w, h },
    lastId: null,
    historyLoaded: false,
    awaitingHistory: false,
    hasMore: true,
    loadingOlder: false,
    olderError: null,
    prependSeq: 0,
    shaking: false,
    shakeCount: 0,
    wink: null,
    winkCount: 0,
    draft: '',
    lastTypingSent: 0,
    typingSent: false,
    readAcked: new Set(),
    deliveredAcked: new Set(),
    joinedOnce: false,
    flash: false,
    sysSeq: 0,
    lastReceivedAt: null,
  };
  state.convs.set(roomId, conv);
  state.order = [...state.order.filter((id) => id !== roomId), roomId];
  if (focus && !minimized) state.focused = roomId;
  conv.sock = new ReconnectingSocket({
    url: () => {
      let path = `/api/ws/room/${encodeURIComponent(roomId)}?sessionId=${encodeURIComponent(state.session.sessionId)}`;
      if (conv.lastId) path += `&since=${encodeURIComponent(conv.lastId)}`;
      return wsUrl(path);
    },
    onOpen: (isReconnect) => onRoomOpen(conv, isReconnect),
    onMessage: (m) => onRoomFrame(conv, m),
    onState: (s) => {
      conv.conn = s;
      if (s !== 'connected') conv.typing.clear();
      changed();
    },
    onSessionEnded: () =>
      sessionEnded('The server ended your session. This happens after 20 minutes without activity or when you sign out elsewhere.'),
    onConnectFailed: () => probeSession(),
  });
  conv.sock.start();
  remember();
  changed();
  return conv;
}

export function closeConversation(roomId) {
  const conv = state.convs.get(roomId);
  if (!conv) return;
  if (conv.typingSent) conv.sock.send({ type: 'typing', isTyping: false });
  conv.sock.stop();
  clearTimeout(conv.winkTimer);
  clearTimeout(conv.shakeTimer);
  state.convs.delete(roomId);
  state.unread.delete(roomId);
  state.order = state.order.filter((id) => id !== roomId);
  if (state.focused === roomId) focusTopmost();
  remember();
  changed();
}

export function closeAllConversations() {
  for (const conv of state.convs.values()) {
    conv.sock.stop();
    clearTimeout(conv.winkTimer);
    clearTimeout(conv.shakeTimer);
  }
  state.convs.clear();
  state.order = ['contacts'];
  state.focused = 'contacts';
}

function focusTopmost() {
  const visible = state.order.filter((id) =>
    id === 'contacts' ? !state.contactsMinimized : state.convs.get(id) && !state.convs.get(id).minimized,
  );
  state.focused = visible.length ? visible[visible.length - 1] : null;
}

export function focusWindow(id) {
  if (id === 'contacts') state.contactsMinimized = false;
  const conv = state.convs.get(id);
  if (conv) {
    conv.minimized = false;
    conv.flash = false;
  }
  if (state.focused !== id || state.order[state.order.length - 1] !== id) {
    state.order = [...state.order.filter((x) => x !== id), id];
    state.focused = id;
  }
  if (conv) {
    markRead(conv);
    remember();
  }
  changed();
}

export function minimizeWindow(id) {
  if (id === 'contacts') state.contactsMinimized = true;
  const conv = state.convs.get(id);
  if (conv) conv.minimized = true;
  if (state.focused === id) focusTopmost();
  remember();
  changed();
}

export function toggleMaximize(id) {
  const conv = state.convs.get(id);
  if (conv) conv.maximized = !conv.maximized;
  changed();
}

export function moveWindow(id, x, y) {
  const conv = state.convs.get(id);
  const target = conv ? conv.pos : state.contactsPos;
  if (!target) return;
  target.x = x;
  target.y = y;
  changed();
}

export function resizeWindow(id, w, h) {
  const conv = state.convs.get(id);
  const target = conv ? conv.pos : state.contactsPos;
  if (!target) return;
  target.w = w;
  target.h = h;
  changed();
}

// The browser window regained focus or became visible: the focused conversation's messages are now read.
export function onDocumentFocus() {
  const conv = state.convs.get(state.focused);
  if (conv) markRead(conv);
}

// ---- room socket ----------------------------------------------------------------------------------------------

function onRoomOpen(conv, isReconnect) {
  conv.typing.clear();
  if (conv.lastId) {
    // A `since=` connect always answers with a history frame; pending sends wait for it so none is doubled.
    conv.awaitingHistory = true;
    clearTimeout(conv.historyTimer);
    conv.historyTimer = setTimeout(() => {
      if (conv.awaitingHistory) {
        conv.awaitingHistory = false;
        resendPending(conv);
      }
    }, 3000);
  } else {
    resendPending(conv);
  }
  if (isReconnect && conv.kind === 'group' && state.me && state.me.status !== 'online') {
    conv.sock.send({ type: 'presence', status: state.me.status });
  }
  changed();
}

function onRoomFrame(conv, m) {
  switch (m.type) {
    case 'history':
      mergeHistory(conv, Array.isArray(m.messages) ? m.messages : [], m.resumed);
      break;
    case 'participants':
      conv.participants = Array.isArray(m.participants) ? m.participants : [];
      break;
    case 'typing':
      if (!state.me || m.senderId === state.me.id) break;
      if (m.isTyping) conv.typing.set(m.senderId, { name: m.displayName || userName(m.senderId), until: Date.now() + TYPING_SHOW_MS });
      else conv.typing.delete(m.senderId);
      break;
    case 'delivery_status':
      raiseStatus(conv, m.ackId, m.status);
      break;
    case 'chat_delta':
      onDelta(conv, m);
      break;
    case 'error':
      onErrorFrame(conv, m);
      break;
    case 'system':
      if (m.id && m.senderId !== undefined) addLive(conv, m);
      else onSystemFrame(conv, m);
      break;
    case 'pong':
      return;
    default:
      if (m.id && 'senderId' in m && 'content' in m) addLive(conv, m);
      else return;
  }
  changed();
}

function onSystemFrame(conv, m) {
  const content = String(m.content || '');
  if (/^Connected to /.test(content)) return; // shown as the connection indicator instead
  const me = state.me;
  if (me && content === `${me.displayName} joined the room.`) {
    if (conv.joinedOnce) return; // our own re-join after a reconnect is noise
    conv.joinedOnce = true;
  }
  addSystem(conv, content, { timestamp: m.timestamp });
}

export function addSystem(conv, text, { level = 'info', timestamp } = {}) {
  conv.items.push({ kind: 'sys', key: `s${++conv.sysSeq}`, content: text, level, timestamp: timestamp || Date.now() });
}

function normalize(m) {
  return {
    kind: 'msg',
    id: String(m.id),
    roomId: m.roomId,
    senderId: m.senderId,
    displayName: m.displayName || userName(m.senderId),
    content: typeof m.content === 'string' ? m.content : String(m.content ?? ''),
    timestamp: Number(m.timestamp) || Date.now(),
    isNudge: !!m.isNudge || m.type === 'nudge',
    isWink: !!m.isWink,
    winkId: m.winkId,
    type: m.type || 'chat',
    status: m.status || 'sent',
    pending: false,
    streaming: false,
    failed: null,
  };
}

function upsertMessage(conv, m) {
  const n = normalize(m);
  const existing = conv.byId.get(n.id);
  if (existing) {
    const keep = STATUS_RANK[existing.status] > STATUS_RANK[n.status] ? existing.status : n.status;
    Object.assign(existing, n, { status: keep });
    return { item: existing, isNew: false };
  }
  conv.items.push(n);
  conv.byId.set(n.id, n);
  return { item: n, isNew: true };
}

const fromOther = (item) => state.me && item.senderId !== state.me.id;
const isContent = (item) => item.type !== 'system';

function mergeHistory(conv, messages, resumed) {
  const firstLoad = !conv.historyLoaded;
  const fresh = [];
  for (const m of messages) {
    if (!m || !m.id) continue;
    const wasPending = conv.byId.get(String(m.id));
    const { item, isNew } = upsertMessage(conv, m);
    if (isNew || (wasPending && wasPending.streaming)) fresh.push(item);
  }
  if (messages.length) conv.lastId = String(messages[messages.length - 1].id);
  if (!firstLoad && resumed === false) {
    conv.items.sort((a, b) => a.timestamp - b.timestamp);
    addSystem(conv, 'You were disconnected for a while; some older messages may not be shown.');
  }
  if (firstLoad && messages.length === 0) conv.hasMore = false;
  conv.historyLoaded = true;
  conv.awaitingHistory = false;
  clearTimeout(conv.historyTimer);
  resendPending(conv);

  // Receipts for what we now hold, and unread counts for what arrived while we were disconnected.
  const others = conv.items.filter((it) => it.kind === 'msg' && fromOther(it) && isContent(it) && !it.pending);
  if (isConvFocused(conv)) markRead(conv);
  else {
    for (const it of others.slice(-50)) if (it.status === 'sent') ack(conv, it.id, 'delivered');
    if (!firstLoad) {
      const missed = fresh.filter((it) => fromOther(it) && isContent(it)).length;
      if (missed) bumpUnread(conv, missed, true);
    }
  }
}

function addLive(conv, m) {
  if (state.me && m.senderId === state.me.id && !conv.byId.has(String(m.id))) adoptPending(conv, m);
  const before = conv.byId.get(String(m.id));
  const wasStreaming = !!(before && before.streaming);
  const { item, isNew } = upsertMessage(conv, m);
  conv.lastId = item.id;
  if (!fromOther(item)) {
    if (item.isNudge) shake(conv);
    if (item.isWink) playWink(conv, item.winkId);
    return;
  }
  if (!isContent(item)) return;
  conv.typing.delete(item.senderId);
  if (!isNew && !wasStreaming) return; // a repeat of something we already hold
  conv.lastReceivedAt = Date.now();
  if (item.isNudge) {
    if (conv.minimized) conv.minimized = false;
    shake(conv);
  }
  if (item.isWink) {
    if (conv.minimized) conv.minimized = false;
    playWink(conv, item.winkId);
  }
  if (isConvFocused(conv)) ack(conv, item.id, 'read');
  else {
    ack(conv, item.id, 'delivered');
    bumpUnread(conv, 1, !item.isNudge && !item.isWink);
  }
}

// The server keeps a client's message id unless it is unusable; if it replaced ours, match the echo by content.
function adoptPending(conv, m) {
  const pending = conv.items.find((it) => it.kind === 'msg' && it.pending && it.content === m.content);
  if (!pending) return;
  conv.byId.delete(pending.id);
  pending.id = String(m.id);
  conv.byId.set(pending.id, pending);
}

function bumpUnread(conv, n, ding) {
  state.unread.set(conv.roomId, (state.unread.get(conv.roomId) || 0) + n);
  conv.flash = true;
  if (ding) playDing();
}

function onDelta(conv, m) {
  if (!m.id) return;
  let item = conv.byId.get(String(m.id));
  if (!item) {
    item = normalize({ id: m.id, roomId: conv.roomId, senderId: m.senderId, content: '', timestamp: Date.now() });
    item.streaming = true;
    conv.items.push(item);
    conv.byId.set(item.id, item);
  }
  if (!item.streaming) return; // the final message already landed
  item.content += typeof m.delta === 'string' ? m.delta : '';
  conv.typing.delete(m.senderId);
}

function raiseStatus(conv, id, status) {
  const item = id && conv.byId.get(String(id));
  if (!item || !(status in STATUS_RANK)) return;
  if (STATUS_RANK[status] > STATUS_RANK[item.status]) item.status = status;
}

function onErrorFrame(conv, m) {
  const text = m.content || 'The server could not handle that.';
  const item = m.ackId && conv.byId.get(String(m.ackId));
  if (item && item.pending) {
    item.pending = false;
    item.failed = text;
    return;
  }
  addSystem(conv, text, { level: 'error' });
}

function ack(conv, id, status) {
  const set = status === 'read' ? conv.readAcked : conv.deliveredAcked;
  if (set.has(id) || conv.readAcked.has(id)) return;
  if (conv.sock.send({ type: 'ack', ackId: id, status })) set.add(id);
}

export function markRead(conv) {
  if (!isConvFocused(conv)) return;
  const others = conv.items.filter(
    (it) => it.kind === 'msg' && fromOther(it) && isContent(it) && !it.streaming && it.status !== 'read',
  );
  for (const it of others.slice(-50)) ack(conv, it.id, 'read');
  if (state.unread.has(conv.roomId)) {
    state.unread.delete(conv.roomId);
    changed();
  }
  conv.flash = false;
}

function shake(conv) {
  conv.shaking = true;
  conv.shakeCount += 1;
  playRumble();
  clearTimeout(conv.shakeTimer);
  conv.shakeTimer = setTimeout(() => {
    conv.shaking = false;
    changed();
  }, SHAKE_MS);
}

export function playWink(conv, winkId) {
  conv.wink = { winkId: winkId || 'wink', key: Date.now() };
  conv.winkCount += 1;
  playSparkle();
  clearTimeout(conv.winkTimer);
  conv.winkTimer = setTimeout(() => {
    conv.wink = null;
    changed();
  }, WINK_MS);
  changed();
}

// ---- sending --------------------------------------------------------------------------------------------------

function newId() {
  const bytes = new Uint8Array(9);
  crypto.getRandomValues(bytes);
  return 'c' + Array.from(bytes, (b) => b.toString(36).padStart(2, '0')).join('');
}

export function sendChat(conv, text) {
  const content = text.replace(/\s+$/, '');
  if (!content.trim()) return { ok: false };
  if ([...content].length > MAX_CONTENT) {
    return { ok: false, error: `That message is too long: keep it under ${MAX_CONTENT} characters.` };
  }
  const me = state.me;
  const item = {
    kind: 'msg',
    id: newId(),
    roomId: conv.roomId,
    senderId: me.id,
    displayName: me.displayName,
    content,
    timestamp: Date.now(),
    isNudge: false,
    isWink: false,
    type: 'chat',
    status: 'sending',
    pending: true,
    streaming: false,
    failed: null,
  };
  conv.items.push(item);
  conv.byId.set(item.id, item);
  conv.typingSent = false;
  conv.lastTypingSent = 0;
  if (!conv.awaitingHistory) conv.sock.send({ type: 'chat', content, id: item.id });
  changed();
  return { ok: true };
}

export function retrySend(conv, id) {
  const item = conv.byId.get(id);
  if (!item || !item.failed) return;
  item.failed = null;
  item.pending = true;
  item.timestamp = Date.now();
  conv.items = [...conv.items.filter((x) => x !== item), item];
  conv.sock.send({ type: 'chat', content: item.content, id: item.id });
  changed();
}

function resendPending(conv) {
  for (const it of conv.items) {
    if (it.kind === 'msg' && it.pending && !it.failed) conv.sock.send({ type: 'chat', content: it.content, id: it.id });
  }
}

function requireConnection(conv, what) {
  if (conv.sock.isOpen) return true;
  addSystem(conv, `You can't send ${what} right now: the connection is being restored.`, { level: 'error' });
  changed();
  return false;
}

export function sendNudge(conv) {
  if (!requireConnection(conv, 'a nudge')) return;
  conv.sock.send({ type: 'nudge' });
}

export function sendWink(conv, winkId) {
  if (!requireConnection(conv, 'a wink')) return;
  conv.sock.send({ type: 'wink', winkId });
}

export function onDraftInput(conv, value) {
  conv.draft = value;
  const now = Date.now();
  if (value.trim()) {
    if (now - conv.lastTypingSent > TYPING_RESEND_MS) {
      if (conv.sock.send({ type: 'typing', isTyping: true })) {
        conv.lastTypingSent = now;
        conv.typingSent = true;
      }
    }
  } else if (conv.typingSent) {
    conv.sock.send({ type: 'typing', isTyping: false });
    conv.typingSent = false;
    conv.lastTypingSent = 0;
  }
}

export function broadcastPresenceToRooms(fields) {
  for (const conv of state.convs.values()) {
    if (conv.kind === 'group') conv.sock.send({ type: 'presence', ...fields });
  }
}

// ---- older history --------------------------------------------------------------------------------------------

export async function loadOlder(conv) {
  if (conv.loadingOlder || !conv.hasMore) return;
  const oldest = conv.items.find((it) => it.kind === 'msg' && !it.pending && !it.streaming && !it.failed);
  if (!oldest) {
    conv.hasMore = false;
    changed();
    return;
  }
  conv.loadingOlder = true;
  conv.olderError = null;
  changed();
  try {
    const list = await api(
      `/api/rooms/${encodeURIComponent(conv.roomId)}/messages?before=${encodeURIComponent(oldest.id)}&limit=50`,
      { sessionId: state.session.sessionId },
    );
    const older = (Array.isArray(list) ? list : []).filter((m) => m && m.id && !conv.byId.has(String(m.id)));
    const items = older.map(normalize);
    for (const it of items) conv.byId.set(it.id, it);
    const at = conv.items.indexOf(oldest);
    conv.items.splice(Math.max(0, at), 0, ...items);
    if (!Array.isArray(list) || list.length < 50) conv.hasMore = false;
    if (items.length) conv.prependSeq += 1;
  } catch (e) {
    conv.olderError = e.message;
  } finally {
    conv.loadingOlder = false;
    changed();
  }
}

// ---- notifications from the presence socket -------------------------------------------------------------------

export function onMessageNotification(message) {
  const me = state.me;
  if (!me || !message || !message.roomId || message.senderId === me.id) return;
  if (state.convs.has(message.roomId)) return; // its own socket delivers it
  const loud = !!(message.isNudge || message.isWink || message.type === 'nudge');
  const conv = openConversation(message.roomId, { focus: false, minimized: !loud });
  bumpUnread(conv, 1, !loud);
  if (message.isNudge || message.type === 'nudge') shake(conv);
  if (message.isWink) playWink(conv, message.winkId);
  const name = message.displayName || userName(message.senderId);
  const text = message.isNudge || message.type === 'nudge'
    ? `${name} just sent you a nudge!`
    : message.isWink
      ? `${name} sent you a wink.`
      : `${name} says: ${String(message.content || '').slice(0, 80)}`;
  toast({ kind: 'message', userId: message.senderId, roomId: message.roomId, text });
  changed();
}

// Expire typing indicators whose sender went quiet without saying so.
setInterval(() => {
  const now = Date.now();
  let dirty = false;
  for (const conv of state.convs.values()) {
    for (const [id, t] of conv.typing) {
      if (t.until < now) {
        conv.typing.delete(id);
        dirty = true;
      }
    }
  }
  if (dirty) changed();
}, 1000);

export function toastOpen(t) {
  if (t.roomId) openConversation(t.roomId, { focus: true });
  else if (t.userId && state.me && t.userId !== state.me.id) openConversation(dmRoomId(state.me.id, t.userId), { focus: true });
}

export function notifyError(text) {
  toast({ kind: 'error', text });
}
