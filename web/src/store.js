// One mutable application state and a batched "something changed" signal. Controllers (session, presence,
// conversations) mutate `state` and call `changed()`; the root component re-renders once per animation frame.

export const state = {
  phase: 'boot', // boot | signin | main | ended
  bootError: null,
  config: { TURNSTILE_SITE_KEY: '', winks: ['dancing_pig', 'kiss', 'heart_burst', 'thunder'] },
  users: new Map(), // id -> User (seeded people, bots, and guests seen through presence)
  rooms: [], // public group rooms
  session: null, // {sessionId, expiresAt}
  me: null, // the signed-in User, kept live
  signinNotice: null, // {kind: 'info'|'error', text} shown on the sign-in window
  endedReason: null,
  presenceConn: 'connecting',
  convs: new Map(), // roomId -> conversation (see conversations.js)
  order: ['contacts'], // window stacking order, last is on top
  focused: 'contacts',
  unread: new Map(), // roomId -> count
  toasts: [],
  sessionWarning: null, // {expiresAt} while the expiry warning shows
  soundOn: localStorage.getItem('switchboard.sound') !== 'off',
  contactsMinimized: false,
  collapsed: new Set(JSON.parse(localStorage.getItem('switchboard.collapsed') || '[]')),
  filter: '',
};

const listeners = new Set();
let scheduled = false;

export function changed() {
  if (scheduled) return;
  scheduled = true;
  const run = () => {
    scheduled = false;
    for (const l of listeners) l();
  };
  if (typeof requestAnimationFrame === 'function' && document.visibilityState === 'visible') {
    requestAnimationFrame(run);
    // rAF does not fire in a hidden tab; make sure the update still lands.
    setTimeout(() => scheduled && run(), 100);
  } else {
    setTimeout(run, 0);
  }
}

export function subscribe(fn) {
  listeners.add(fn);
  return () => listeners.delete(fn);
}

export function userName(id, fallback) {
  if (state.me && id === state.me.id) return state.me.displayName;
  const u = state.users.get(id);
  return (u && u.displayName) || fallback || id;
}

export function dmRoomId(a, b) {
  // Byte order of the two ids; ids are ASCII, so UTF-16 comparison agrees with byte order.
  const [x, y] = a < b ? [a, b] : [b, a];
  return `dm_${x}__${y}`;
}

export function dmPeer(roomId) {
  const m = /^dm_(.+?)__(.+)$/.exec(roomId);
  if (!m || !state.me) return null;
  return m[1] === state.me.id ? m[2] : m[1];
}

let toastSeq = 0;
export function toast(t) {
  const item = { key: ++toastSeq, ...t };
  state.toasts = [...state.toasts.slice(-3), item];
  changed();
  setTimeout(() => {
    state.toasts = state.toasts.filter((x) => x !== item);
    changed();
  }, t.ms || 6000);
}
