// Shared harness for the integration suites: starts the real `switchboard` binary on 127.0.0.1:0 with a fresh data
// dir, and speaks HTTP and WebSocket to it. Every suite imports `it`/`describe` from here (not from node:test) so that
// a failing test prints the captured logs of the servers it started.
//
// Environment: SWITCHBOARD_BIN (path to the binary) and SWITCHBOARD_SOURCE_DIR (repo root), both set by ctest.
// SWITCHBOARD_TEST_KEEP_TMP=1 keeps each server's temp dir for inspection.
import { spawn } from 'node:child_process';
import crypto from 'node:crypto';
import fs from 'node:fs';
import http from 'node:http';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import * as nodeTest from 'node:test';
import { fileURLToPath } from 'node:url';
import WebSocket from 'ws';

export { describe, before, after, beforeEach, afterEach } from 'node:test';

const here = path.dirname(fileURLToPath(import.meta.url));

/** Repo root. */
export const SOURCE_DIR = path.resolve(process.env.SWITCHBOARD_SOURCE_DIR || path.join(here, '..', '..', '..'));

/** Default wait for one expected frame or condition; generous for a loaded 2-core machine (and ASan builds). */
export const DEFAULT_TIMEOUT_MS = 10_000;

/** Per-test timeout (node:test has none by default; a hung test must fail, not stall ctest). */
export const TEST_TIMEOUT_MS = 60_000;

export const PRESENCE_PATH = '/api/ws/presence';
export const roomPath = (roomId) => `/api/ws/room/${roomId}`;
export const STATUSES = ['online', 'busy', 'away', 'offline'];
export const UUID_V4 = /^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/i;

// ---------------------------------------------------------------------------------------------------------------
// Small utilities

export const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));

/** Polls `fn` (sync or async) until it returns a truthy value, which is returned. Throws after `timeoutMs`. */
export async function waitUntil(fn, { timeoutMs = DEFAULT_TIMEOUT_MS, intervalMs = 50, what = 'condition' } = {}) {
  const deadline = Date.now() + timeoutMs;
  let lastError;
  for (;;) {
    try {
      const v = await fn();
      if (v) return v;
    } catch (err) {
      lastError = err;
    }
    if (Date.now() > deadline) {
      throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}` +
                      (lastError ? ` (last error: ${lastError.message})` : ''));
    }
    await sleep(intervalMs);
  }
}

/** Rejects with a clear message when `promise` does not settle within `ms`. */
export function withTimeout(promise, ms, what = 'operation') {
  let timer;
  return Promise.race([
    promise,
    new Promise((_, reject) => {
      timer = setTimeout(() => reject(new Error(`timed out after ${ms} ms waiting for ${what}`)), ms);
    }),
  ]).finally(() => clearTimeout(timer));
}

/** Number of Unicode code points (what PROTOCOL counts). */
export const codePoints = (s) => [...s].length;

/** Seeded accounts from config/users.json (the shipped defaults the server loads). */
export function seededUsers() {
  return JSON.parse(fs.readFileSync(path.join(SOURCE_DIR, 'config', 'users.json'), 'utf8')).users;
}

/** Bot personas from config/personas.json. */
export function personas() {
  return JSON.parse(fs.readFileSync(path.join(SOURCE_DIR, 'config', 'personas.json'), 'utf8')).personas;
}

/** Display name of a seeded user id (e.g. user_1 -> "Alex"). */
export function displayNameOf(userId) {
  const u = seededUsers().find((x) => x.id === userId);
  if (!u) throw new Error(`no seeded user ${userId}`);
  return u.displayName;
}

/** The environment variable for a config key: session.ttl_seconds -> SWITCHBOARD_SESSION_TTL_SECONDS. */
export const envName = (key) => 'SWITCHBOARD_' + key.toUpperCase().replace(/\./g, '_');

export function binaryPath() {
  const bin = process.env.SWITCHBOARD_BIN;
  if (bin) return path.resolve(bin);
  for (const candidate of ['build/release/switchboard', 'build/debug/switchboard', 'build/ci/switchboard',
                           'build/switchboard']) {
    const p = path.join(SOURCE_DIR, candidate);
    if (fs.existsSync(p)) return p;
  }
  throw new Error('SWITCHBOARD_BIN is not set and no build/*/switchboard exists (run the suites through ctest)');
}

/** The environment a child server gets: ours minus any SWITCHBOARD_* (so a developer's shell can't leak in). */
function baseEnv() {
  const env = {};
  for (const [k, v] of Object.entries(process.env)) if (!k.startsWith('SWITCHBOARD_')) env[k] = v;
  return env;
}

function configValue(v) {
  return Array.isArray(v) ? v.join(',') : String(v);
}

// ---------------------------------------------------------------------------------------------------------------
// Server processes

const liveServers = new Set();
const allServers = [];

/**
 * Config every test server gets unless the test overrides it. Login attempts are limited per client IP and every
 * test logs in from 127.0.0.1, so the limit is raised; the login-limit test sets it back explicitly. The log level is
 * pinned to info so that request-id and "listening on" checks don't depend on the shipped config file.
 */
export const DEFAULT_TEST_CONFIG = { 'security.login_per_10s': 100000, 'log.level': 'info' };

/**
 * Starts the real binary:
 *   $SWITCHBOARD_BIN --config <repo>/config/switchboard.json --listen 127.0.0.1:0 ...args
 * with cwd = repo root, a fresh temp data.dir and server.port_file, and `config` keys passed as SWITCHBOARD_* env
 * variables. Resolves once the bound port is known (port file, or the "listening on http://HOST:PORT" log line).
 */
export async function startServer({ config = {}, env = {}, args = [], listen = '127.0.0.1:0',
                                    startTimeoutMs = 30_000, cwd = SOURCE_DIR } = {}) {
  const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'switchboard-it-'));
  const dataDir = path.join(tmp, 'data');
  fs.mkdirSync(dataDir);
  const portFile = path.join(tmp, 'port');

  const childEnv = baseEnv();
  for (const [k, v] of Object.entries({ ...DEFAULT_TEST_CONFIG, ...config })) childEnv[envName(k)] = configValue(v);
  childEnv.SWITCHBOARD_DATA_DIR = dataDir;
  childEnv.SWITCHBOARD_SERVER_PORT_FILE = portFile;
  // A null value removes a variable the harness would set (to test what the config file says instead).
  for (const [k, v] of Object.entries(env)) {
    if (v === null) delete childEnv[k];
    else childEnv[k] = v;
  }

  const fullArgs = ['--config', path.join(SOURCE_DIR, 'config', 'switchboard.json')];
  if (listen) fullArgs.push('--listen', listen);
  fullArgs.push(...args);

  const proc = spawn(binaryPath(), fullArgs, { cwd, env: childEnv, stdio: ['ignore', 'pipe', 'pipe'] });
  let logText = '';
  proc.stdout.setEncoding('utf8');
  proc.stderr.setEncoding('utf8');
  proc.stdout.on('data', (d) => { logText += d; });
  proc.stderr.on('data', (d) => { logText += d; });

  let exitStatus = null;
  const exited = new Promise((resolve) => {
    proc.once('error', (err) => {
      logText += `\n[harness] spawn error: ${err.message}\n`;
      exitStatus = { code: null, signal: null, error: err };
      resolve(exitStatus);
    });
    proc.once('exit', (code, signal) => {
      exitStatus = { code, signal };
      resolve(exitStatus);
    });
  });

  const server = {
    proc,
    pid: proc.pid,
    tmpDir: tmp,
    dataDir,
    portFile,
    args: fullArgs,
    port: 0,
    baseUrl: '',
    wsUrl: '',
    origin: '',
    exited,
    logs: () => logText,
    get exitStatus() { return exitStatus; },
    /** Sends a signal without waiting. */
    kill(signal = 'SIGTERM') {
      if (exitStatus === null) proc.kill(signal);
    },
    /** Signals the process and waits for it to exit (SIGKILL after `graceMs`). Resolves {code, signal}. */
    async stop(signal = 'SIGTERM', { graceMs = 15_000 } = {}) {
      if (exitStatus === null) {
        proc.kill(signal);
        const timer = setTimeout(() => { if (exitStatus === null) proc.kill('SIGKILL'); }, graceMs);
        await exited;
        clearTimeout(timer);
      }
      liveServers.delete(server);
      return exitStatus;
    },
  };
  liveServers.add(server);
  allServers.push(server);

  const deadline = Date.now() + startTimeoutMs;
  let port = 0;
  while (!port) {
    if (exitStatus !== null) {
      liveServers.delete(server);
      throw new Error(`switchboard exited during start-up (code ${exitStatus.code}, signal ${exitStatus.signal}).\n` +
                      `args: ${fullArgs.join(' ')}\n--- server logs ---\n${tail(logText)}`);
    }
    if (Date.now() > deadline) {
      await server.stop('SIGKILL');
      throw new Error(`switchboard did not report its port within ${startTimeoutMs} ms.\n` +
                      `--- server logs ---\n${tail(logText)}`);
    }
    port = portFromLogs(logText);
    if (!port) {
      // Read the port file twice so that a half-written file can't hand us a wrong port.
      const first = readPortFile(portFile);
      await sleep(25);
      if (first && readPortFile(portFile) === first) port = first;
    }
  }
  server.port = port;
  server.baseUrl = `http://127.0.0.1:${port}`;
  server.wsUrl = `ws://127.0.0.1:${port}`;
  server.origin = server.baseUrl;
  // With Redis, the port is known (the "listening on" line) a moment before the Redis links are up, and a login in
  // that moment gets 503. Wait for /readyz (200 once Redis is connected), as a load balancer would; give up
  // quietly after a few seconds, for tests that start a server whose Redis is down on purpose.
  if (childEnv.SWITCHBOARD_REDIS_URL) {
    const readyBy = Math.min(deadline, Date.now() + 5_000);
    while (Date.now() < readyBy && exitStatus === null) {
      const res = await request(server, 'GET', '/readyz', { timeoutMs: 2_000 }).catch(() => null);
      if (res?.status === 200) break;
      await sleep(25);
    }
  }
  return server;
}

function readPortFile(file) {
  try {
    const m = /^\s*(\d+)\s*$/.exec(fs.readFileSync(file, 'utf8'));
    const port = m ? Number(m[1]) : 0;
    return port > 0 && port < 65536 ? port : 0;
  } catch {
    return 0;
  }
}

/** The port of the "listening on http://HOST:PORT" log line, or 0. */
export function portFromLogs(text) {
  const m = /listening on https?:\/\/(?:\[[^\]]*\]|[^\s:/]+):(\d+)/.exec(text);
  const port = m ? Number(m[1]) : 0;
  return port > 0 ? port : 0;
}

function tail(text, max = 20_000) {
  return text.length > max ? `[... ${text.length - max} earlier characters cut ...]\n` + text.slice(-max) : text;
}

/** Prints the logs of the servers still running plus those started since `sinceIndex` (when a test fails). */
export function dumpServerLogs(reason, sinceIndex = 0) {
  for (const s of allServers.filter((x, i) => i >= sinceIndex || liveServers.has(x))) {
    const status = s.exitStatus ? `exited ${JSON.stringify(s.exitStatus)}` : 'running';
    console.error(`\n===== ${reason}: logs of switchboard pid ${s.pid} port ${s.port} (${status}) =====\n` +
                  tail(s.logs()) + '\n===== end of logs =====');
  }
}

/** Resident set size of a process in MiB (Linux /proc). */
export function rssMiB(pid) {
  const m = /VmRSS:\s+(\d+)\s+kB/.exec(fs.readFileSync(`/proc/${pid}/status`, 'utf8'));
  return m ? Number(m[1]) / 1024 : NaN;
}

/** Runs the binary to completion (for --help, --version, bad config). Kills it after `timeoutMs`. */
export function runBinary(args, { env = {}, timeoutMs = 15_000 } = {}) {
  return new Promise((resolve) => {
    const proc = spawn(binaryPath(), args, { cwd: SOURCE_DIR, env: { ...baseEnv(), ...env },
                                             stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    let timedOut = false;
    proc.stdout.on('data', (d) => { stdout += d; });
    proc.stderr.on('data', (d) => { stderr += d; });
    const timer = setTimeout(() => { timedOut = true; proc.kill('SIGKILL'); }, timeoutMs);
    proc.once('error', (err) => { clearTimeout(timer); resolve({ code: null, signal: null, stdout, stderr: err.message, timedOut }); });
    proc.once('close', (code, signal) => { clearTimeout(timer); resolve({ code, signal, stdout, stderr, timedOut }); });
  });
}

// Leftover servers die with the test file, whatever happened.
nodeTest.after(async () => {
  await Promise.all([...liveServers].map((s) => s.stop('SIGTERM', { graceMs: 5_000 })));
  if (!process.env.SWITCHBOARD_TEST_KEEP_TMP) {
    for (const s of allServers) fs.rmSync(s.tmpDir, { recursive: true, force: true });
  }
});
process.on('exit', () => {
  for (const s of liveServers) {
    try { s.proc.kill('SIGKILL'); } catch { /* already gone */ }
  }
});

// ---------------------------------------------------------------------------------------------------------------
// Test wrappers: same as node:test's `it`, with a default timeout and the servers' logs printed on failure.

export function it(name, optionsOrFn, maybeFn) {
  const [options, fn] = typeof optionsOrFn === 'function' ? [{}, optionsOrFn] : [optionsOrFn ?? {}, maybeFn];
  return nodeTest.it(name, { timeout: TEST_TIMEOUT_MS, ...options }, async (t) => {
    const mark = allServers.length;
    let settled = false;
    // node:test aborts the signal when a test times out (and, harmlessly, after every test).
    t.signal?.addEventListener('abort', () => { if (!settled) dumpServerLogs(`test "${name}" timed out`, mark); });
    try {
      return await fn(t);
    } catch (err) {
      dumpServerLogs(`test "${name}" failed`, mark);
      throw err;
    } finally {
      settled = true;
    }
  });
}
export const test = it;

// ---------------------------------------------------------------------------------------------------------------
// HTTP

/**
 * One HTTP request on a fresh connection. `body`: a string or Buffer is sent as is, anything else as JSON.
 * Resolves {status, headers (lower-cased names), text, json (parsed or undefined)}.
 */
export function request(server, method, urlPath, { token, body, headers = {}, timeoutMs = 15_000 } = {}) {
  return new Promise((resolve, reject) => {
    const h = {};
    for (const [k, v] of Object.entries(headers)) h[k.toLowerCase()] = v;
    let payload;
    if (body !== undefined) {
      if (typeof body === 'string' || Buffer.isBuffer(body)) {
        payload = Buffer.from(body);
      } else {
        payload = Buffer.from(JSON.stringify(body));
        if (!('content-type' in h)) h['content-type'] = 'application/json';
      }
      h['content-length'] = String(payload.length);
    }
    if (token) h.authorization = `Bearer ${token}`;
    let responded = false;
    const req = http.request({ host: '127.0.0.1', port: server.port, method, path: urlPath, headers: h, agent: false },
      (res) => {
        responded = true;
        const chunks = [];
        const finish = () => {
          const text = Buffer.concat(chunks).toString('utf8');
          let json;
          try { json = text ? JSON.parse(text) : undefined; } catch { json = undefined; }
          resolve({ status: res.statusCode, headers: res.headers, text, json });
        };
        res.on('data', (c) => chunks.push(c));
        res.on('end', finish);
        res.on('error', finish); // a reset after the response started: keep what arrived
      });
    req.setTimeout(timeoutMs, () => req.destroy(new Error(`HTTP ${method} ${urlPath}: no response in ${timeoutMs} ms`)));
    req.on('error', (err) => { if (!responded) reject(err); });
    req.end(payload);
  });
}

/** Same as request(); named for readability in API tests. */
export const api = request;

/**
 * A hand-written HTTP/1.1 request over a raw socket (for paths Node would not send as is, or bodies the server
 * may refuse before reading). Resolves {status, headers, text} from whatever arrived before the server closed.
 */
export function rawHttp(server, requestText, { timeoutMs = 15_000 } = {}) {
  return new Promise((resolve, reject) => {
    const sock = net.connect(server.port, '127.0.0.1');
    const chunks = [];
    let finished = false;
    const done = () => {
      if (finished) return;
      finished = true;
      clearTimeout(timer);
      const buf = Buffer.concat(chunks);
      const headEnd = buf.indexOf('\r\n\r\n');
      if (headEnd < 0) return reject(new Error(`raw HTTP: no complete response (${buf.length} bytes)`));
      const lines = buf.subarray(0, headEnd).toString('latin1').split('\r\n');
      const status = Number(/^HTTP\/1\.[01] (\d{3})/.exec(lines[0])?.[1]);
      const headers = {};
      for (const l of lines.slice(1)) {
        const i = l.indexOf(':');
        if (i > 0) headers[l.slice(0, i).trim().toLowerCase()] = l.slice(i + 1).trim();
      }
      let body = buf.subarray(headEnd + 4);
      if (headers['content-length']) body = body.subarray(0, Number(headers['content-length']));
      const text = body.toString('utf8');
      let json;
      try { json = JSON.parse(text); } catch { json = undefined; }
      resolve({ status, headers, text, json });
    };
    const timer = setTimeout(() => { sock.destroy(); done(); }, timeoutMs);
    sock.on('data', (c) => {
      chunks.push(c);
      // Stop once a Content-Length response is complete (keep-alive servers won't close).
      const buf = Buffer.concat(chunks);
      const headEnd = buf.indexOf('\r\n\r\n');
      if (headEnd >= 0) {
        const m = /\r\ncontent-length:\s*(\d+)/i.exec(buf.subarray(0, headEnd).toString('latin1'));
        if (m && buf.length >= headEnd + 4 + Number(m[1])) { sock.destroy(); done(); }
      }
    });
    sock.on('error', () => { /* a reset after the response is fine; close follows */ });
    sock.on('close', done);
    sock.write(requestText);
  });
}

/** Asserts the §1 envelope's meta part and the X-Request-Id header; returns the body. */
export function checkEnvelope(res) {
  const body = res.json;
  if (!body || typeof body !== 'object') {
    throw new Error(`expected a JSON envelope, got status ${res.status} ${res.headers['content-type']}: ${res.text.slice(0, 300)}`);
  }
  const ok = res.status >= 200 && res.status < 300;
  if (body.success !== ok) throw new Error(`envelope success=${body.success} with status ${res.status}: ${res.text.slice(0, 300)}`);
  if (!body.meta || typeof body.meta.timestamp !== 'number' || !UUID_V4.test(String(body.meta.requestId))) {
    throw new Error(`envelope meta must be {timestamp: ms, requestId: uuid-v4}: ${JSON.stringify(body.meta)}`);
  }
  if (Math.abs(body.meta.timestamp - Date.now()) > 5 * 60_000) throw new Error(`meta.timestamp is not ms since epoch: ${body.meta.timestamp}`);
  if (res.headers['x-request-id'] !== body.meta.requestId) {
    throw new Error(`X-Request-Id ${res.headers['x-request-id']} != meta.requestId ${body.meta.requestId}`);
  }
  return body;
}

/** Asserts a 2xx envelope with `status` and returns `data`. */
export function expectOk(res, status = 200) {
  if (res.status !== status) throw new Error(`expected HTTP ${status}, got ${res.status}: ${res.text.slice(0, 500)}`);
  const body = checkEnvelope(res);
  if (body.error !== undefined) throw new Error(`success envelope carries an error: ${res.text.slice(0, 300)}`);
  return body.data;
}

/** Asserts an error envelope: exact HTTP status and one of the allowed codes; returns the error object. */
export function expectError(res, status, codes) {
  const allowed = Array.isArray(codes) ? codes : [codes];
  if (res.status !== status) throw new Error(`expected HTTP ${status} ${allowed.join('|')}, got ${res.status}: ${res.text.slice(0, 500)}`);
  const body = checkEnvelope(res);
  if (!body.error || !allowed.includes(body.error.code)) {
    throw new Error(`expected error code ${allowed.join('|')}, got ${JSON.stringify(body.error)}`);
  }
  if (typeof body.error.message !== 'string' || body.error.message.trim().length < 3) {
    throw new Error(`error.message must be a human sentence, got ${JSON.stringify(body.error.message)}`);
  }
  if (!/application\/json/.test(res.headers['content-type'] || '')) {
    throw new Error(`error envelope must be JSON, content-type was ${res.headers['content-type']}`);
  }
  return body.error;
}

/**
 * Logs in: a seeded id (user_N) with {userId}, anything else as a guest with {username}. Returns the AuthSession.
 */
export async function login(server, who) {
  const body = /^user_\d+$/.test(who) ? { userId: who } : { username: who };
  const res = await api(server, 'POST', '/api/auth/login', { body });
  if (res.status !== 200) throw new Error(`login ${who} failed: HTTP ${res.status} ${res.text.slice(0, 300)}`);
  return expectOk(res);
}

/** POSTs a chat over REST and returns the stored Message (expects 201). */
export async function restSend(server, session, roomId, content, extra = {}) {
  const res = await api(server, 'POST', `/api/rooms/${roomId}/messages`, { token: tokenOf(session), body: { content, ...extra } });
  return expectOk(res, 201);
}

const tokenOf = (s) => (typeof s === 'string' ? s : s.sessionId);

// ---------------------------------------------------------------------------------------------------------------
// WebSocket client

/** Rejection of a refused upgrade: carries the HTTP status, headers and parsed JSON body. */
export class UpgradeRefused extends Error {
  constructor(status, headers, text) {
    super(`WebSocket upgrade refused with HTTP ${status}: ${text.slice(0, 300)}`);
    this.status = status;
    this.headers = headers;
    this.text = text;
    try { this.json = JSON.parse(text); } catch { this.json = undefined; }
  }
}

let syncCounter = 0;

/** Buffers every frame a socket receives; `next()` consumes the first buffered frame that matches. */
export class WsClient {
  constructor(ws, label) {
    this.ws = ws;
    this.label = label;
    this.all = [];      // every frame ever received, in order (never consumed)
    this.buffer = [];   // frames not yet consumed by next()
    this.waiters = [];
    this.closeInfo = null;
    this.closed = new Promise((resolve) => {
      ws.on('close', (code, reason) => {
        this.closeInfo = { code, reason: reason.toString() };
        for (const w of this.waiters.splice(0)) {
          clearTimeout(w.timer);
          w.reject(new Error(`${this.label}: socket closed (${code} ${this.closeInfo.reason}) while waiting for ` +
                             `${w.what}; unconsumed: ${this.summary()}`));
        }
        resolve(this.closeInfo);
      });
    });
    ws.on('error', () => { /* surfaces through `closed` */ });
    ws.on('message', (data, isBinary) => {
      let frame;
      if (isBinary) {
        frame = { __binary: Buffer.from(data) };
      } else {
        const text = data.toString('utf8');
        try { frame = JSON.parse(text); } catch { frame = { __raw: text }; }
      }
      this.all.push(frame);
      const i = this.waiters.findIndex((w) => safeMatch(w.pred, frame));
      if (i >= 0) {
        const [w] = this.waiters.splice(i, 1);
        clearTimeout(w.timer);
        w.resolve(frame);
      } else {
        this.buffer.push(frame);
      }
    });
  }

  get isOpen() { return this.ws.readyState === WebSocket.OPEN; }

  /** Consumes and returns the first frame (buffered or future) matching `pred`. */
  next(pred = () => true, timeoutMs = DEFAULT_TIMEOUT_MS, what = describePred(pred)) {
    const i = this.buffer.findIndex((f) => safeMatch(pred, f));
    if (i >= 0) return Promise.resolve(this.buffer.splice(i, 1)[0]);
    if (this.closeInfo) {
      return Promise.reject(new Error(`${this.label}: socket already closed (${this.closeInfo.code}) while waiting ` +
                                      `for ${what}; unconsumed: ${this.summary()}`));
    }
    return new Promise((resolve, reject) => {
      const w = { pred, resolve, reject, what };
      w.timer = setTimeout(() => {
        const at = this.waiters.indexOf(w);
        if (at >= 0) this.waiters.splice(at, 1);
        reject(new Error(`${this.label}: timed out after ${timeoutMs} ms waiting for ${what}; unconsumed: ${this.summary()}`));
      }, timeoutMs);
      this.waiters.push(w);
    });
  }

  /** Consumes the first frame of `type` (and matching `pred`). */
  waitFor(type, pred, timeoutMs = DEFAULT_TIMEOUT_MS) {
    return this.next((f) => f.type === type && (!pred || pred(f)), timeoutMs,
                     `type=${type}${pred ? ` matching ${pred.toString().slice(0, 120)}` : ''}`);
  }

  /** Waits for the error frame with this ackId (or any error frame when ackId is undefined). */
  waitError(ackId, timeoutMs = DEFAULT_TIMEOUT_MS) {
    return this.waitFor('error', ackId === undefined ? undefined : (f) => f.ackId === ackId, timeoutMs);
  }

  /** Frames still in the buffer that match `pred` (not consumed). */
  pending(pred = () => true) { return this.buffer.filter((f) => safeMatch(pred, f)); }

  /** Waits `ms`, then throws if any unconsumed frame matches `pred`. */
  async expectNone(pred, ms = 500, what = 'unexpected frame') {
    await sleep(ms);
    const found = this.pending(pred);
    if (found.length) throw new Error(`${this.label}: expected no ${what}, got ${JSON.stringify(found).slice(0, 500)}`);
  }

  /** Drops every buffered frame. */
  clear() { this.buffer.length = 0; }

  send(obj) { return this.sendRaw(JSON.stringify(obj)); }

  sendRaw(data, { binary = false } = {}) {
    return new Promise((resolve, reject) => {
      this.ws.send(data, { binary }, (err) => (err ? reject(err) : resolve()));
    });
  }

  /** Sends {type:"chat"} with a fresh client id and waits for the echo; returns the echoed Message. */
  async chat(content, { id = `c-${crypto.randomBytes(6).toString('hex')}`, ...extra } = {}) {
    await this.send({ type: 'chat', content, id, ...extra });
    return this.next((f) => f.type === 'chat' && f.id === id, DEFAULT_TIMEOUT_MS, `echo of chat ${id}`);
  }

  /**
   * Round trip through the server: sends a frame of an unknown type carrying an id and waits for its error frame.
   * Everything the server did for this socket before reading that frame (joining the room, say) has then happened.
   */
  async sync() {
    const id = `sync-${++syncCounter}`;
    await this.send({ type: 'harness_sync_probe', id });
    return this.waitError(id);
  }

  /** Starts a close handshake and resolves {code, reason} (terminates after 5 s without an answer). */
  async close(code = 1000, reason = '') {
    if (!this.closeInfo) {
      try { this.ws.close(code, reason); } catch { this.ws.terminate(); }
      const timer = setTimeout(() => this.ws.terminate(), 5_000);
      await this.closed;
      clearTimeout(timer);
    }
    return this.closeInfo;
  }

  terminate() { this.ws.terminate(); return this.closed; }

  summary() {
    const frames = this.buffer.slice(-12).map((f) => JSON.stringify(f, (k, v) => (typeof v === 'string' && v.length > 60 ? v.slice(0, 60) + '…' : v)));
    return `[${this.buffer.length} frame(s)] ${frames.join(' | ').slice(0, 1500)}`;
  }
}

function describePred(pred) {
  const src = pred.toString().replace(/\s+/g, ' ');
  return src === '() => true' ? 'any frame' : `a frame matching ${src.slice(0, 160)}`;
}

function safeMatch(pred, frame) {
  try { return !!pred(frame); } catch { return false; }
}

/**
 * Opens a WebSocket to `urlPath` (`?sessionId=` added when `sessionId` is given; `query` adds more parameters).
 * Resolves a WsClient on open; rejects with UpgradeRefused (status, headers, json) when the server answers the
 * upgrade with anything but 101. permessage-deflate is off so frame sizes on the wire are what the test sends.
 */
export function connect(server, urlPath, { sessionId, headers = {}, query = {}, origin, autoPong = true,
                                           timeoutMs = DEFAULT_TIMEOUT_MS, label } = {}) {
  const url = new URL(urlPath, server.wsUrl);
  if (sessionId) url.searchParams.set('sessionId', tokenOf(sessionId));
  for (const [k, v] of Object.entries(query)) url.searchParams.set(k, v);
  const ws = new WebSocket(url, { headers, origin, autoPong, perMessageDeflate: false, handshakeTimeout: timeoutMs,
                                  maxPayload: 64 * 1024 * 1024 });
  const client = new WsClient(ws, label || urlPath);
  return new Promise((resolve, reject) => {
    ws.once('open', () => resolve(client));
    ws.once('unexpected-response', (req, res) => {
      const chunks = [];
      res.on('data', (c) => chunks.push(c));
      res.on('end', () => {
        reject(new UpgradeRefused(res.statusCode, res.headers, Buffer.concat(chunks).toString('utf8')));
        req.destroy();
      });
      res.on('error', () => reject(new UpgradeRefused(res.statusCode, res.headers, Buffer.concat(chunks).toString('utf8'))));
    });
    ws.once('error', (err) => reject(err));
    ws.once('close', (code) => reject(new Error(`WebSocket ${urlPath} closed (${code}) before opening`)));
  });
}

/** Expects the upgrade to be refused; returns the UpgradeRefused error (status, headers, json). */
export async function expectUpgradeRefused(server, urlPath, options = {}) {
  try {
    const c = await connect(server, urlPath, options);
    await c.close();
  } catch (err) {
    if (err instanceof UpgradeRefused) return err;
    throw err;
  }
  throw new Error(`upgrade of ${urlPath} was accepted, expected a refusal`);
}

/**
 * Opens a room socket as `session` and, for group rooms, waits until this socket's join is visible (a
 * `participants` frame listing the user); for DM rooms it does a sync() round trip. The join frames stay in `all`.
 */
export async function joinRoom(server, roomId, session, { since, label, autoPong } = {}) {
  const query = since === undefined ? {} : { since };
  const client = await connect(server, roomPath(roomId), { sessionId: session, query, autoPong,
                                                           label: label || `${session.user.id}@${roomId}` });
  if (roomId.startsWith('dm_')) {
    await client.sync();
  } else {
    await client.waitFor('participants', (f) => f.participants.some((p) => p.id === session.user.id));
  }
  return client;
}

/** Opens a presence socket and waits for its presence_full_sync. */
export async function joinPresence(server, session, { label, autoPong } = {}) {
  const client = await connect(server, PRESENCE_PATH, { sessionId: session, autoPong,
                                                        label: label || `${session.user.id}@presence` });
  await client.waitFor('presence_full_sync');
  return client;
}

/** Checks the common shape of a §2 Message. */
export function checkMessage(m, expected = {}) {
  const problems = [];
  if (typeof m.id !== 'string' || !m.id) problems.push('id must be a non-empty string');
  if (typeof m.roomId !== 'string') problems.push('roomId must be a string');
  if (typeof m.senderId !== 'string') problems.push('senderId must be a string');
  if (typeof m.content !== 'string') problems.push('content must be a string');
  if (typeof m.timestamp !== 'number' || Math.abs(m.timestamp - Date.now()) > 10 * 60_000) problems.push('timestamp must be ms since epoch, near now');
  if (typeof m.isNudge !== 'boolean') problems.push('isNudge must be a boolean');
  if (typeof m.isWink !== 'boolean') problems.push('isWink must be a boolean');
  if (m.status !== undefined && !['sent', 'delivered', 'read'].includes(m.status)) problems.push('status must be sent|delivered|read');
  for (const [k, v] of Object.entries(expected)) {
    if (JSON.stringify(m[k]) !== JSON.stringify(v)) problems.push(`${k}: expected ${JSON.stringify(v)}, got ${JSON.stringify(m[k])}`);
  }
  if (problems.length) throw new Error(`bad Message ${JSON.stringify(m).slice(0, 400)}: ${problems.join('; ')}`);
  return m;
}

// ---------------------------------------------------------------------------------------------------------------
// A raw WebSocket client that can stop reading (for the slow-consumer test).

/**
 * Does the WebSocket handshake by hand over a raw TCP socket. Resolves {socket, head} once the 101 arrived;
 * `head` holds bytes that came after the response headers. The caller decides whether to ever read again.
 */
export function rawUpgrade(server, urlPath, { timeoutMs = DEFAULT_TIMEOUT_MS } = {}) {
  return new Promise((resolve, reject) => {
    const key = crypto.randomBytes(16).toString('base64');
    const socket = net.connect(server.port, '127.0.0.1');
    let buf = Buffer.alloc(0);
    const timer = setTimeout(() => { socket.destroy(); reject(new Error('raw upgrade timed out')); }, timeoutMs);
    const onData = (chunk) => {
      buf = Buffer.concat([buf, chunk]);
      const end = buf.indexOf('\r\n\r\n');
      if (end < 0) return;
      socket.pause();
      socket.off('data', onData);
      clearTimeout(timer);
      const head = buf.subarray(0, end).toString('latin1');
      if (!/^HTTP\/1\.1 101/.test(head)) {
        socket.destroy();
        return reject(new Error(`raw upgrade refused: ${head.split('\r\n')[0]}`));
      }
      const expected = crypto.createHash('sha1').update(key + '258EAFA5-E914-47DA-95CA-C5AB0DC85B11').digest('base64');
      if (!head.toLowerCase().includes(`sec-websocket-accept: ${expected.toLowerCase()}`)) {
        socket.destroy();
        return reject(new Error('raw upgrade: bad Sec-WebSocket-Accept'));
      }
      resolve({ socket, head: buf.subarray(end + 4) });
    };
    socket.on('data', onData);
    socket.on('error', (err) => { clearTimeout(timer); reject(err); });
    socket.write(`GET ${urlPath} HTTP/1.1\r\nHost: 127.0.0.1:${server.port}\r\nUpgrade: websocket\r\n` +
                 `Connection: Upgrade\r\nSec-WebSocket-Key: ${key}\r\nSec-WebSocket-Version: 13\r\n\r\n`);
  });
}

/** A masked client frame (opcode 0x1 text, 0x2 binary, 0x8 close, ...). */
export function encodeClientFrame(opcode, payload = Buffer.alloc(0)) {
  const len = payload.length;
  const header = len < 126 ? Buffer.from([0x80 | opcode, 0x80 | len])
    : len < 65536 ? Buffer.from([0x80 | opcode, 0x80 | 126, len >> 8, len & 0xff])
      : Buffer.concat([Buffer.from([0x80 | opcode, 0x80 | 127]), (() => { const b = Buffer.alloc(8); b.writeBigUInt64BE(BigInt(len)); return b; })()]);
  const mask = crypto.randomBytes(4);
  const masked = Buffer.from(payload);
  for (let i = 0; i < masked.length; i++) masked[i] ^= mask[i & 3];
  return Buffer.concat([header, mask, masked]);
}

/**
 * Resumes reading a raw socket from rawUpgrade, skipping data frames, answering a close frame, and resolves
 * {closeCode, bytes, textFrames} when the TCP connection ends. Rejects after `timeoutMs`.
 */
export function drainUntilClosed({ socket, head }, { timeoutMs = 20_000 } = {}) {
  return new Promise((resolve, reject) => {
    let buf = Buffer.from(head);
    let bytes = head.length;
    let closeCode = null;
    let textFrames = 0;
    const timer = setTimeout(() => reject(new Error(`raw socket still open after ${timeoutMs} ms (${bytes} bytes read)`)), timeoutMs);
    const parse = () => {
      for (;;) {
        if (buf.length < 2) return;
        const opcode = buf[0] & 0x0f;
        let len = buf[1] & 0x7f;
        let off = 2;
        if (len === 126) { if (buf.length < 4) return; len = buf.readUInt16BE(2); off = 4; }
        else if (len === 127) { if (buf.length < 10) return; len = Number(buf.readBigUInt64BE(2)); off = 10; }
        if (buf[1] & 0x80) off += 4; // server frames are unmasked; tolerate anyway
        if (buf.length < off + len) return;
        const payload = buf.subarray(off, off + len);
        buf = buf.subarray(off + len);
        if (opcode === 0x1) textFrames++;
        if (opcode === 0x8 && closeCode === null) {
          closeCode = payload.length >= 2 ? payload.readUInt16BE(0) : 1005;
          try { socket.write(encodeClientFrame(0x8, payload.subarray(0, 2))); } catch { /* gone */ }
        }
      }
    };
    socket.on('data', (c) => { bytes += c.length; buf = Buffer.concat([buf, c]); parse(); });
    socket.on('error', () => { /* reset counts as ended */ });
    socket.on('close', () => { clearTimeout(timer); resolve({ closeCode, bytes, textFrames }); });
    if (socket.destroyed) { clearTimeout(timer); resolve({ closeCode, bytes, textFrames }); return; }
    parse();
    socket.resume();
  });
}
