// The presence socket: who is online, their status, names and personal messages, plus DM notifications.
import { api } from './api.js';
import { ReconnectingSocket, wsUrl } from './socket.js';
import { state, changed, toast } from './store.js';
import { playChime } from './sound.js';
import { sessionEnded, probeSession, persistSession, mergeUsers } from './session.js';
import { onMessageNotification, broadcastPresenceToRooms } from './conversations.js';

let sock = null;
let synced = false;

export function startPresence() {
  stopPresence();
  synced = false;
  state.presenceConn = 'connecting';
  sock = new ReconnectingSocket({
    url: () => wsUrl(`/api/ws/presence?sessionId=${encodeURIComponent(state.session.sessionId)}`),
    onOpen: (isReconnect) => {
      sendOwnPresence();
      if (isReconnect) {
        // Pick up directory changes (names, new guests) that happened while we were away.
        api('/api/users')
          .then((users) => {
            mergeUsers((users || []).filter((u) => !state.me || u.id !== state.me.id));
            changed();
          })
          .catch(() => {});
      }
    },
    onMessage: handle,
    onState: (s) => {
      state.presenceConn = s;
      changed();
    },
    onSessionEnded: () =>
      sessionEnded('The server ended your session. This happens after 20 minutes without activity or when you sign out elsewhere.'),
    onConnectFailed: () => probeSession(),
  });
  sock.start();
}

export function stopPresence() {
  if (sock) sock.stop();
  sock = null;
}

function sendOwnPresence() {
  const me = state.me;
  if (!me || !sock) return;
  const frame = { type: 'presence_update', status: me.status };
  if (me.nameEdited) frame.displayName = me.displayName;
  if (me.pmEdited) frame.personalMessage = me.personalMessage || '';
  sock.send(frame);
}

const isOnline = (s) => s && s !== 'offline';

function upsert(id, fields) {
  const prev = state.users.get(id);
  const next = { id, isAiBot: false, ...(prev || {}), ...fields };
  if (!prev) next.isGuest = id.startsWith('guest_');
  state.users.set(id, next);
  return { prev, next };
}

function announceSignIn(id) {
  const u = state.users.get(id);
  if (!u || u.isAiBot) return;
  playChime();
  toast({ kind: 'signin', userId: id, text: `${u.displayName || id} has just signed in.` });
}

function handle(msg) {
  const me = state.me;
  if (!me) return;
  switch (msg.type) {
    case 'presence_full_sync': {
      const listed = new Set();
      for (const p of msg.participants || []) {
        if (!p || !p.id) continue;
        listed.add(p.id);
        if (p.id === me.id) continue;
        const fields = { status: p.status || 'online' };
        if (p.displayName) fields.displayName = p.displayName;
        if (p.personalMessage !== undefined) fields.personalMessage = p.personalMessage;
        upsert(p.id, fields);
      }
      // People missing from the sync are not connected.
      for (const u of state.users.values()) {
        if (!u.isAiBot && u.id !== me.id && !listed.has(u.id)) u.status = 'offline';
      }
      synced = true;
      changed();
      break;
    }
    case 'presence_join': {
      if (!msg.userId || msg.userId === me.id) break;
      const { prev } = upsert(msg.userId, msg.displayName ? { displayName: msg.displayName } : {});
      const u = state.users.get(msg.userId);
      if (!isOnline(u.status)) {
        u.status = 'online';
        if (synced) announceSignIn(msg.userId);
      } else if (!prev && synced) announceSignIn(msg.userId);
      changed();
      break;
    }
    case 'presence_update': {
      if (!msg.userId) break;
      if (msg.userId === me.id) {
        // Our own change from another tab.
        if (msg.status) me.status = msg.status;
        if (msg.displayName) me.displayName = msg.displayName;
        if (msg.personalMessage !== undefined) me.personalMessage = msg.personalMessage;
        persistSession();
        changed();
        break;
      }
      const before = state.users.get(msg.userId);
      const wasOnline = before && isOnline(before.status);
      const fields = {};
      if (msg.status) fields.status = msg.status;
      if (msg.displayName) fields.displayName = msg.displayName;
      if (msg.personalMessage !== undefined) fields.personalMessage = msg.personalMessage;
      upsert(msg.userId, fields);
      if (synced && !wasOnline && isOnline(msg.status)) announceSignIn(msg.userId);
      changed();
      break;
    }
    case 'message_notification':
      if (msg.message) onMessageNotification(msg.message);
      break;
    case 'error':
      toast({ kind: 'error', text: msg.content || 'The presence service reported an error.' });
      break;
    default:
      break;
  }
}

// Status changes go over the socket (the documented broadcast path); REST is the fallback while disconnected.
export async function setStatus(status) {
  const me = state.me;
  if (!me) return;
  me.status = status;
  persistSession();
  changed();
  broadcastPresenceToRooms({ status });
  if (sock && sock.send({ type: 'presence_update', status, ...(me.pmEdited ? { personalMessage: me.personalMessage || '' } : {}) })) return;
  await api('/api/presence', { method: 'POST', body: { status }, sessionId: state.session.sessionId });
}

// Name and personal message go through REST so a conflict comes back as a readable error.
export async function updateProfile({ displayName, personalMessage }) {
  const me = state.me;
  const body = { status: me.status };
  if (displayName !== undefined) body.displayName = displayName;
  if (personalMessage !== undefined) body.personalMessage = personalMessage;
  const data = await api('/api/presence', { method: 'POST', body, sessionId: state.session.sessionId });
  if (displayName !== undefined) {
    me.displayName = (data && data.displayName) || displayName;
    me.nameEdited = true;
    broadcastPresenceToRooms({ displayName: me.displayName });
  }
  if (personalMessage !== undefined) {
    me.personalMessage = personalMessage;
    me.pmEdited = true;
  }
  persistSession();
  changed();
}
