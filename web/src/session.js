// Sign-in, sign-out and the life of a session: validation on reload, sliding refresh while the user is active,
// the expiry warning, and the "signed out" screen when the server ends the session.
import { api, ApiError, isAuthError } from './api.js';
import { state, changed } from './store.js';
import { startPresence, stopPresence } from './presence.js';
import { closeAllConversations, openConversation, rememberedWindows } from './conversations.js';

const KEY = 'switchboard.session';
const WARN_BEFORE_MS = 120_000;
const ACTIVE_WINDOW_MS = 60_000;

export const STATUSES = [
  { id: 'online', label: 'Online' },
  { id: 'busy', label: 'Busy' },
  { id: 'away', label: 'Away' },
  { id: 'offline', label: 'Appear offline' },
];
// Your own status as you chose it ("Appear offline"), and how anyone else's reads ("Offline").
export const statusLabel = (s) => (STATUSES.find((x) => x.id === s) || STATUSES[3]).label;
export const statusText = (s) => (s === 'offline' || !s ? 'Offline' : statusLabel(s));

function saveSession() {
  if (!state.session || !state.me) return;
  localStorage.setItem(
    KEY,
    JSON.stringify({ sessionId: state.session.sessionId, expiresAt: state.session.expiresAt, status: state.me.status }),
  );
}
export const persistSession = saveSession;

function loadSaved() {
  try {
    const s = JSON.parse(localStorage.getItem(KEY) || 'null');
    return s && typeof s.sessionId === 'string' ? s : null;
  } catch {
    return null;
  }
}

function clearSaved() {
  localStorage.removeItem(KEY);
  sessionStorage.removeItem('switchboard.windows');
}

// Converts the server's absolute expiresAt into local clock time using the envelope's server timestamp.
function setExpiry(envelope) {
  const serverNow = (envelope.meta && envelope.meta.timestamp) || Date.now();
  const left = Math.max(0, Number(envelope.data.expiresAt) - serverNow);
  state.session.expiresAt = envelope.data.expiresAt;
  state.session.expiresLocal = Date.now() + left;
  state.session.ttl = Math.max(60_000, left);
}

export function mergeUsers(list) {
  for (const u of list || []) {
    if (!u || !u.id) continue;
    const prev = state.users.get(u.id) || {};
    state.users.set(u.id, { ...prev, ...u });
  }
}

async function loadDirectory() {
  const [config, users, rooms] = await Promise.all([api('/api/config'), api('/api/users'), api('/api/rooms')]);
  state.config = {
    ...state.config,
    ...config,
    winks: Array.isArray(config.winks) && config.winks.length ? config.winks : state.config.winks,
  };
  mergeUsers(users);
  state.rooms = Array.isArray(rooms) ? rooms : [];
}

export async function boot() {
  state.phase = 'boot';
  state.bootError = null;
  changed();
  try {
    await loadDirectory();
  } catch (e) {
    state.bootError = e.message;
    state.phase = 'signin';
    changed();
    return;
  }
  const saved = loadSaved();
  if (!saved) {
    state.phase = 'signin';
    changed();
    return;
  }
  try {
    const user = await api('/api/auth/me', { sessionId: saved.sessionId });
    state.session = { sessionId: saved.sessionId, expiresAt: saved.expiresAt, expiresLocal: saved.expiresAt, ttl: 1_200_000 };
    enterMain(user, saved.status || user.status || 'online', { restoring: true });
    // Learn the real expiry (and extend it: reloading the page is activity).
    refreshSession().catch(() => {});
  } catch (e) {
    state.phase = 'signin';
    if (isAuthError(e)) {
      clearSaved();
      state.signinNotice = {
        kind: 'error',
        text: `Your previous session has ended, so you were signed out. Please sign in again. (${e.message})`,
      };
    } else {
      // The server could not be asked (restarting, network down): keep the session and offer a retry.
      state.bootError = `${e.message} Your session is kept; try again in a moment.`;
    }
    changed();
  }
}

export async function retryBoot() {
  await boot();
}

export async function login({ userId, username, token, status }) {
  const body = userId ? { userId, token: token || '' } : { username, token: token || '' };
  const env = await api('/api/auth/login', { method: 'POST', body, full: true });
  state.session = { sessionId: env.data.sessionId };
  setExpiry(env);
  // Apply the starting status before the presence socket announces us, so "Appear offline" never flashes online.
  if (status && status !== 'online') {
    try {
      await api('/api/presence', { method: 'POST', body: { status }, sessionId: state.session.sessionId });
    } catch {
      /* the presence socket's first presence_update applies it anyway */
    }
  }
  state.signinNotice = null;
  enterMain(env.data.user, status || 'online', { restoring: false });
}

function enterMain(user, status, { restoring }) {
  state.me = { ...user, status };
  state.users.set(user.id, { ...(state.users.get(user.id) || {}), ...user, status });
  state.phase = 'main';
  state.endedReason = null;
  state.focused = 'contacts';
  state.order = ['contacts'];
  state.contactsMinimized = false;
  saveSession();
  startPresence();
  startTimers();
  if (restoring) {
    for (const w of rememberedWindows()) openConversation(w.roomId, { focus: false, minimized: w.minimized });
  }
  changed();
}

function teardown() {
  stopTimers();
  stopPresence();
  closeAllConversations();
  state.unread.clear();
  state.toasts = [];
  state.sessionWarning = null;
}

export async function logout() {
  const sid = state.session && state.session.sessionId;
  teardown();
  clearSaved();
  state.session = null;
  state.me = null;
  state.phase = 'signin';
  state.signinNotice = { kind: 'info', text: 'You have signed out. See you soon!' };
  changed();
  if (sid) {
    try {
      await api('/api/auth/logout', { method: 'POST', sessionId: sid });
    } catch {
      /* signing out locally is what matters */
    }
  }
}

export function sessionEnded(reason) {
  if (state.phase !== 'main') return;
  teardown();
  clearSaved();
  state.session = null;
  state.me = null;
  state.phase = 'ended';
  state.endedReason = reason || 'Your session has ended.';
  changed();
}

export function backToSignIn() {
  state.phase = 'signin';
  state.signinNotice = null;
  changed();
  loadDirectory()
    .then(changed)
    .catch(() => {});
}

let refreshing = null;
export function refreshSession() {
  if (!state.session) return Promise.resolve();
  if (refreshing) return refreshing;
  const sid = state.session.sessionId;
  refreshing = api('/api/auth/refresh', { method: 'POST', sessionId: sid, full: true })
    .then((env) => {
      if (!state.session || state.session.sessionId !== sid) return;
      setExpiry(env);
      lastRefresh = Date.now();
      state.sessionWarning = null;
      saveSession();
      changed();
    })
    .catch((e) => {
      if (isAuthError(e)) sessionEnded('Your session has expired. Please sign in again.');
      else throw e;
    })
    .finally(() => {
      refreshing = null;
    });
  return refreshing;
}

// Called when a socket could not connect: if the session is gone, say so instead of retrying forever.
let probing = false;
export async function probeSession() {
  if (probing || !state.session) return;
  probing = true;
  try {
    await api('/api/auth/me', { sessionId: state.session.sessionId });
  } catch (e) {
    if (isAuthError(e)) sessionEnded('Your session is no longer valid on the server. Please sign in again.');
  } finally {
    probing = false;
  }
}

let lastActivity = Date.now();
let lastRefresh = Date.now();
let tickTimer = null;
const onActivity = () => {
  lastActivity = Date.now();
};
const ACTIVITY_EVENTS = ['pointerdown', 'keydown', 'wheel', 'touchstart', 'mousemove'];

function startTimers() {
  stopTimers();
  lastActivity = Date.now();
  lastRefresh = Date.now();
  for (const ev of ACTIVITY_EVENTS) window.addEventListener(ev, onActivity, { passive: true });
  tickTimer = setInterval(tick, 5000);
}

function stopTimers() {
  clearInterval(tickTimer);
  tickTimer = null;
  for (const ev of ACTIVITY_EVENTS) window.removeEventListener(ev, onActivity);
}

let checkingExpiry = false;
function tick() {
  const s = state.session;
  if (!s || state.phase !== 'main') return;
  const now = Date.now();
  const active = now - lastActivity < ACTIVE_WINDOW_MS;
  const refreshEvery = Math.min(s.ttl / 4, 300_000);
  const left = s.expiresLocal - now;
  if (active && (now - lastRefresh > refreshEvery || left < WARN_BEFORE_MS)) {
    lastRefresh = now;
    refreshSession().catch(() => {});
    return;
  }
  if (left <= WARN_BEFORE_MS && left > 0) {
    if (!state.sessionWarning) {
      state.sessionWarning = { expiresLocal: s.expiresLocal };
      changed();
    }
  } else if (left > WARN_BEFORE_MS && state.sessionWarning) {
    state.sessionWarning = null;
    changed();
  }
  if (left <= 0 && !checkingExpiry) {
    // Our estimate ran out. Open sockets also keep a session alive on the server, so ask it before ending.
    checkingExpiry = true;
    api('/api/auth/me', { sessionId: s.sessionId })
      .then(() => refreshSession())
      .catch((e) => {
        if (isAuthError(e)) sessionEnded('Your session expired after a while without activity. Please sign in again.');
      })
      .finally(() => {
        checkingExpiry = false;
      });
  }
}

export { ApiError };
