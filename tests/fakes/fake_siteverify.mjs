#!/usr/bin/env node
// A fake Cloudflare Turnstile siteverify endpoint on loopback for Switchboard's tests.
// POST /turnstile/v0/siteverify with form fields (or JSON) secret, response, remoteip, idempotency_key; it answers
// like Cloudflare: {"success", "challenge_ts", "hostname", "error-codes", "action", "cdata", "metadata"}.
//
// The token (`response`) decides the answer:
//   anything else            success (each token once: a replay gets "timeout-or-duplicate", unless it repeats the
//                            idempotency_key of its first successful use, which replays that success)
//   "fail", "invalid"        invalid-input-response
//   "expired", "duplicate"   timeout-or-duplicate
//   "bad-request"            bad-request
//   "internal-error"         internal-error
//   "error:<code>"           that error code
//   "stall"                  no answer for stallMs (then success)
//   "malformed"              200 with a body that is not JSON
//   "http500"                HTTP 500
//   "drop"                   the connection is closed without an answer
//   "flaky:<x>"              internal-error the first time; a retry with the same idempotency_key then succeeds
//                            (any other key: timeout-or-duplicate), as Cloudflare's idempotency rule says
//   "host:<name>[#x]"        success (once per token) with hostname <name>; "action:<name>[#x]" likewise with
//                            that action (the "#x" part only makes tokens unique)
// A missing secret or token gives missing-input-secret / missing-input-response; a secret other than the configured
// one gives invalid-input-secret. Cloudflare's documented dummy secrets behave as documented:
//   1x0000000000000000000000000000000AA always passes, 2x0000000000000000000000000000000AA always fails,
//   3x0000000000000000000000000000000AA always says timeout-or-duplicate (token already spent).
// setMode('stall' | 'malformed' | 'http_500' | 'ok') overrides the per-token behaviour for every request.
//
// Module:  const sv = await startFakeSiteverify({secret, hostname, action, stallMs});
//          sv.url (the full siteverify URL for turnstile.verify_url), sv.port, sv.requests, sv.setMode(m), sv.close()
// CLI:     node tests/fakes/fake_siteverify.mjs --port 0 [--secret S] [--hostname H] [--stall-ms N]
//          prints "listening <port>" on stdout. GET /_control/requests lists what was received.
// Plain Node, no dependencies.
import http from 'node:http';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

export const SITEVERIFY_PATH = '/turnstile/v0/siteverify';
export const DUMMY_SECRETS = {
  pass: '1x0000000000000000000000000000000AA',
  fail: '2x0000000000000000000000000000000AA',
  spent: '3x0000000000000000000000000000000AA',
};
export const MODES = ['ok', 'stall', 'malformed', 'http_500'];

const TOKEN_ERRORS = {
  fail: 'invalid-input-response',
  invalid: 'invalid-input-response',
  expired: 'timeout-or-duplicate',
  duplicate: 'timeout-or-duplicate',
  'bad-request': 'bad-request',
  'internal-error': 'internal-error',
};

export async function startFakeSiteverify(options = {}) {
  const settings = {
    mode: options.mode ?? 'ok',
    secret: options.secret ?? null, // null: any non-empty secret is accepted
    hostname: options.hostname ?? 'localhost',
    action: options.action ?? '',
    stallMs: options.stallMs ?? 30000,
  };
  const requests = [];
  const spent = new Map(); // token -> idempotency_key of its first successful use ('' when none)
  const sockets = new Set();
  const timers = new Set();
  let closed = false;

  const wait = (ms) =>
    new Promise((resolve) => {
      const t = setTimeout(() => {
        timers.delete(t);
        resolve();
      }, ms);
      timers.add(t);
    });

  const send = (res, status, body) => {
    const text = typeof body === 'string' ? body : JSON.stringify(body);
    res.writeHead(status, { 'Content-Type': 'application/json', 'Content-Length': Buffer.byteLength(text) });
    res.end(text);
  };
  const failure = (codes) => ({ success: false, 'error-codes': codes, messages: [] });
  const flaky = new Map(); // flaky token -> idempotency_key of its failed first try
  const success = (overrides = {}) => ({
    success: true,
    challenge_ts: new Date().toISOString(),
    hostname: overrides.hostname ?? settings.hostname,
    'error-codes': [],
    action: overrides.action ?? settings.action,
    cdata: '',
    metadata: { interactive: false },
  });

  function parseBody(req, raw) {
    const type = String(req.headers['content-type'] ?? '');
    if (type.includes('application/json')) {
      try {
        const j = JSON.parse(raw);
        return j && typeof j === 'object' ? j : null;
      } catch {
        return null;
      }
    }
    return Object.fromEntries(new URLSearchParams(raw));
  }

  async function handle(req, res) {
    const chunks = [];
    for await (const c of req) chunks.push(c);
    const raw = Buffer.concat(chunks).toString('utf8');
    const urlPath = new URL(req.url, 'http://fake').pathname;
    if (req.method === 'GET' && urlPath === '/_control/requests') return send(res, 200, requests);
    if (req.method === 'POST' && urlPath === '/_control/mode') {
      const { mode } = JSON.parse(raw || '{}');
      if (!MODES.includes(mode)) return send(res, 400, { error: `unknown mode ${mode}` });
      settings.mode = mode;
      return send(res, 200, { ok: true });
    }

    const fields = parseBody(req, raw);
    requests.push({ method: req.method, path: urlPath, headers: { ...req.headers }, body: fields, raw, at: Date.now() });
    if (req.method !== 'POST' || urlPath !== SITEVERIFY_PATH) return send(res, 404, { error: 'not found' });
    if (!fields) return send(res, 400, failure(['bad-request']));

    const token = typeof fields.response === 'string' ? fields.response : '';
    const secret = typeof fields.secret === 'string' ? fields.secret : '';
    const key = typeof fields.idempotency_key === 'string' ? fields.idempotency_key : '';
    const mode = settings.mode !== 'ok' ? settings.mode : token === 'http500' ? 'http_500' : token === 'malformed' ? 'malformed' : token === 'stall' ? 'stall' : 'ok';

    if (mode === 'http_500') return send(res, 500, { error: 'internal server error (fake)' });
    if (token === 'drop') return req.socket.destroy();
    if (mode === 'malformed') {
      res.writeHead(200, { 'Content-Type': 'application/json' });
      return res.end('{"success": tru');
    }
    if (mode === 'stall') {
      await wait(settings.stallMs);
      if (closed || res.destroyed) return;
    }

    if (!secret) return send(res, 200, failure(['missing-input-secret']));
    if (secret === DUMMY_SECRETS.pass) return send(res, 200, success());
    if (secret === DUMMY_SECRETS.fail) return send(res, 200, failure(['invalid-input-response']));
    if (secret === DUMMY_SECRETS.spent) return send(res, 200, failure(['timeout-or-duplicate']));
    if (settings.secret !== null && secret !== settings.secret) return send(res, 200, failure(['invalid-input-secret']));
    if (!token) return send(res, 200, failure(['missing-input-response']));
    if (token.length > 2048) return send(res, 200, failure(['invalid-input-response']));
    if (token in TOKEN_ERRORS) return send(res, 200, failure([TOKEN_ERRORS[token]]));
    if (token.startsWith('error:')) return send(res, 200, failure([token.slice(6)]));
    if (token.startsWith('flaky:') && !spent.has(token)) {
      if (!flaky.has(token)) {
        flaky.set(token, key);
        return send(res, 200, failure(['internal-error']));
      }
      if (!key || flaky.get(token) !== key) return send(res, 200, failure(['timeout-or-duplicate']));
    }
    const overrides = {};
    if (token.startsWith('host:')) overrides.hostname = token.slice(5).split('#')[0];
    if (token.startsWith('action:')) overrides.action = token.slice(7).split('#')[0];

    if (spent.has(token)) {
      // Cloudflare lets a retry with the same idempotency key see the original answer again.
      if (key && spent.get(token) === key) return send(res, 200, success());
      return send(res, 200, failure(['timeout-or-duplicate']));
    }
    spent.set(token, key);
    return send(res, 200, success(overrides));
  }

  const server = http.createServer((req, res) => {
    handle(req, res).catch((err) => {
      if (!res.headersSent) send(res, 500, { error: String(err?.message ?? err) });
      else res.destroy();
    });
  });
  server.on('connection', (socket) => {
    sockets.add(socket);
    socket.on('close', () => sockets.delete(socket));
  });
  await new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.port ?? 0, options.host ?? '127.0.0.1', resolve);
  });
  const { port } = server.address();

  return {
    port,
    url: `http://127.0.0.1:${port}${SITEVERIFY_PATH}`,
    requests,
    setMode(mode) {
      if (!MODES.includes(mode)) throw new Error(`unknown fake siteverify mode: ${mode}`);
      settings.mode = mode;
    },
    reset() {
      requests.length = 0;
      spent.clear();
      flaky.clear();
    },
    /** Siteverify requests (POSTs to the siteverify path) received so far whose token is `token`. */
    requestsFor(token) {
      return requests.filter((r) => r.path === SITEVERIFY_PATH && r.body && r.body.response === token);
    },
    async close() {
      closed = true;
      for (const t of timers) clearTimeout(t);
      timers.clear();
      for (const s of sockets) s.destroy();
      await new Promise((resolve) => server.close(() => resolve()));
    },
  };
}

const isMain = process.argv[1] && path.resolve(process.argv[1]) === fileURLToPath(import.meta.url);
if (isMain) {
  const argv = process.argv.slice(2);
  const arg = (name) => {
    const i = argv.indexOf(`--${name}`);
    return i >= 0 && i + 1 < argv.length ? argv[i + 1] : undefined;
  };
  const sv = await startFakeSiteverify({
    port: Number(arg('port') ?? 0),
    secret: arg('secret') ?? null,
    hostname: arg('hostname') ?? 'localhost',
    action: arg('action') ?? '',
    stallMs: arg('stall-ms') === undefined ? undefined : Number(arg('stall-ms')),
    mode: arg('mode') ?? 'ok',
  });
  process.stdout.write(`listening ${sv.port}\n`);
  const stop = async () => {
    await sv.close();
    process.exit(0);
  };
  process.on('SIGTERM', stop);
  process.on('SIGINT', stop);
}
