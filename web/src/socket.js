// A WebSocket that keeps itself alive: it pings every 30 s, reconnects with capped exponential backoff and jitter,
// and reports its state (connecting | connected | reconnecting | offline | closed). The URL is rebuilt on every
// attempt so callers can add `since=<last id>` for a gap-free resume. Close code 4401 means the session ended:
// no reconnect, the owner is told instead.

const PING_MS = 30_000;
const BASE_DELAY_MS = 500;
const MAX_DELAY_MS = 30_000;
const OFFLINE_AFTER_FAILURES = 5;

export function wsUrl(path) {
  const proto = location.protocol === 'https:' ? 'wss:' : 'ws:';
  return `${proto}//${location.host}${path}`;
}

export class ReconnectingSocket {
  // handlers: url() -> string, onOpen(isReconnect), onMessage(obj), onState(state),
  //           onSessionEnded(reason), onConnectFailed() (a connect attempt closed before opening)
  constructor(handlers) {
    this.h = handlers;
    this.ws = null;
    this.state = 'closed';
    this.failures = 0;
    this.everOpened = false;
    this.stopped = true;
    this.retryTimer = null;
    this.pingTimer = null;
    this.onOnline = () => {
      if (!this.stopped && this.state !== 'connected') this.reconnectNow();
    };
    this.onOffline = () => {
      if (!this.stopped && this.state !== 'connected') this.setState('offline');
    };
  }

  start() {
    if (!this.stopped) return;
    this.stopped = false;
    window.addEventListener('online', this.onOnline);
    window.addEventListener('offline', this.onOffline);
    this.connect();
  }

  stop() {
    this.stopped = true;
    window.removeEventListener('online', this.onOnline);
    window.removeEventListener('offline', this.onOffline);
    clearTimeout(this.retryTimer);
    clearInterval(this.pingTimer);
    if (this.ws) {
      const ws = this.ws;
      this.ws = null;
      ws.onopen = ws.onclose = ws.onmessage = ws.onerror = null;
      try {
        ws.close(1000, 'Closed by the user');
      } catch {
        /* already closed */
      }
    }
    this.setState('closed');
  }

  send(obj) {
    if (!this.ws || this.ws.readyState !== WebSocket.OPEN) return false;
    this.ws.send(JSON.stringify(obj));
    return true;
  }

  get isOpen() {
    return !!this.ws && this.ws.readyState === WebSocket.OPEN;
  }

  reconnectNow() {
    clearTimeout(this.retryTimer);
    if (this.ws) return;
    this.connect();
  }

  setState(s) {
    if (this.state === s) return;
    this.state = s;
    this.h.onState && this.h.onState(s);
  }

  connect() {
    if (this.stopped) return;
    this.setState(this.everOpened ? (navigator.onLine === false ? 'offline' : 'reconnecting') : 'connecting');
    let ws;
    try {
      ws = new WebSocket(this.h.url());
    } catch {
      this.scheduleRetry();
      return;
    }
    this.ws = ws;
    let opened = false;
    ws.onopen = () => {
      opened = true;
      const isReconnect = this.everOpened;
      this.everOpened = true;
      this.failures = 0;
      this.setState('connected');
      clearInterval(this.pingTimer);
      this.pingTimer = setInterval(() => this.send({ type: 'ping' }), PING_MS);
      this.h.onOpen && this.h.onOpen(isReconnect);
    };
    ws.onmessage = (ev) => {
      if (typeof ev.data !== 'string') return;
      let msg;
      try {
        msg = JSON.parse(ev.data);
      } catch {
        return;
      }
      if (msg && typeof msg === 'object') this.h.onMessage && this.h.onMessage(msg);
    };
    ws.onclose = (ev) => {
      if (this.ws !== ws) return;
      this.ws = null;
      clearInterval(this.pingTimer);
      if (ev.code === 4401) {
        this.stopped = true;
        this.setState('closed');
        this.h.onSessionEnded && this.h.onSessionEnded(ev.reason || 'Session expired');
        return;
      }
      if (!opened && this.h.onConnectFailed) this.h.onConnectFailed();
      this.scheduleRetry();
    };
    ws.onerror = () => {
      /* onclose follows and handles the retry */
    };
  }

  scheduleRetry() {
    if (this.stopped) return;
    this.failures += 1;
    const exp = Math.min(MAX_DELAY_MS, BASE_DELAY_MS * 2 ** Math.min(this.failures - 1, 10));
    const delay = Math.round(exp * (0.75 + Math.random() * 0.5));
    const offline = navigator.onLine === false || this.failures >= OFFLINE_AFTER_FAILURES;
    this.setState(offline ? 'offline' : this.everOpened ? 'reconnecting' : 'connecting');
    clearTimeout(this.retryTimer);
    this.retryTimer = setTimeout(() => this.connect(), delay);
  }
}
