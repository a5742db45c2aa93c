// Hardening (issue "login protection and hardening"): client IPs behind trusted proxies, the login rate limit,
// origin checks on WebSocket upgrades, connection caps (503 on HTTP, 1013 on WebSocket), session tokens kept out
// of logs and stored only as hashes, and optional in-process TLS (HTTPS + WSS) with HSTS.
import assert from 'node:assert/strict';
import { execFileSync, spawn } from 'node:child_process';
import crypto from 'node:crypto';
import fs from 'node:fs';
import https from 'node:https';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import tls from 'node:tls';
import WebSocket from 'ws';

import {
  after, api, before, connect, describe, expectError, expectOk, expectUpgradeRefused, it, joinRoom, login,
  restSend, roomPath, runBinary, SOURCE_DIR, startServer, UUID_V4, waitUntil, WsClient,
} from './lib/harness.mjs';

const loginFrom = (server, who, headers) =>
  api(server, 'POST', '/api/auth/login', { body: /^user_\d+$/.test(who) ? { userId: who } : { username: who }, headers });

function expectRateLimited(res) {
  expectError(res, 429, 'RATE_LIMITED');
  const retry = Number(res.headers['retry-after']);
  assert.ok(Number.isInteger(retry) && retry >= 1 && retry <= 10, `Retry-After: ${res.headers['retry-after']}`);
}

/** The access-log lines of requests to `path`. */
const accessLines = (server, p) => server.logs().split('\n').filter((l) => l.includes(` ${p} `) && /request [0-9a-f-]{36} /.test(l));

describe('client IP behind proxies, and the login rate limit', () => {
  it('from a trusted proxy, X-Forwarded-For (right to left) and CF-Connecting-IP pick the rate-limit bucket', async () => {
    const server = await startServer({
      config: { 'security.login_per_10s': 2, 'security.trusted_proxies': '10.0.0.0/8,127.0.0.1/32, ::1/128' },
    });
    const xff = (v) => ({ 'x-forwarded-for': v });
    expectOk(await loginFrom(server, 'user_1', xff('203.0.113.1')));
    // The client may prepend anything; the hop our trusted proxy appended decides.
    expectOk(await loginFrom(server, 'user_1', xff('6.6.6.6, 203.0.113.1')));
    expectRateLimited(await loginFrom(server, 'user_1', xff('7.7.7.7, 203.0.113.1, 10.1.2.3')));
    // Another client behind the same proxy has its own bucket; so has the proxy itself.
    expectOk(await loginFrom(server, 'user_1', xff('203.0.113.2')));
    expectOk(await loginFrom(server, 'user_1', {}));
    // CF-Connecting-IP counts when X-Forwarded-For names no untrusted hop.
    const cf = { 'cf-connecting-ip': '198.51.100.7' };
    expectOk(await loginFrom(server, 'user_1', cf));
    expectOk(await loginFrom(server, 'user_1', { ...cf, 'x-forwarded-for': '10.0.0.9' }));
    expectRateLimited(await loginFrom(server, 'user_1', cf));
    // The access log names the client and the proxy it came through.
    await waitUntil(() => accessLines(server, '/api/auth/login').some((l) => / 203\.0\.113\.1 POST \/api\/auth\/login 429 .* via 127\.0\.0\.1/.test(l)),
                    { what: 'an access line with the forwarded client IP' });
    await server.stop();
  });

  it('from an untrusted peer, X-Forwarded-For and CF-Connecting-IP are ignored (one bucket: the socket peer)', async () => {
    const server = await startServer({ config: { 'security.login_per_10s': 2 } });
    expectOk(await loginFrom(server, 'user_2', { 'x-forwarded-for': '203.0.113.1' }));
    expectOk(await loginFrom(server, 'user_2', { 'cf-connecting-ip': '203.0.113.2' }));
    expectRateLimited(await loginFrom(server, 'user_2', { 'x-forwarded-for': '203.0.113.3' }));
    await waitUntil(() => accessLines(server, '/api/auth/login').length >= 3, { what: 'three access lines' });
    const lines = accessLines(server, '/api/auth/login');
    assert.ok(lines.every((l) => / 127\.0\.0\.1 POST /.test(l) && !l.includes('203.0.113') && !l.includes(' via ')), lines.join('\n'));
    await server.stop();
  });

  it('a trusted_proxies entry that is not a CIDR stops start-up with a message naming the key', async () => {
    for (const bad of ['10.0.0.0/33', 'proxy.internal', '10.0.0.1/8']) {
      const r = await runBinary(['--config', path.join(SOURCE_DIR, 'config', 'switchboard.json'),
                                 '--set', `security.trusted_proxies=127.0.0.1,${bad}`]);
      assert.equal(r.code, 2, r.stderr);
      assert.match(r.stderr, /security\.trusted_proxies/);
      assert.ok(r.stderr.includes(bad), r.stderr);
    }
  });
});

describe('origin policy on WebSocket upgrades', () => {
  let server;
  before(async () => { server = await startServer(); });

  it('a cross-origin upgrade is refused with 403; the own origin and no Origin are accepted', async () => {
    const s = await login(server, 'user_3');
    const refused = await expectUpgradeRefused(server, roomPath('general'), { sessionId: s, origin: 'http://evil.example' });
    assert.equal(refused.status, 403);
    assert.equal(refused.json?.error?.code, 'FORBIDDEN');
    // Same host, other scheme or port: another origin.
    for (const origin of [`https://127.0.0.1:${server.port}`, `http://127.0.0.1:${server.port + 1}`]) {
      assert.equal((await expectUpgradeRefused(server, roomPath('general'), { sessionId: s, origin })).status, 403);
    }
    for (const origin of [server.origin, undefined]) {
      const c = await joinRoom(server, 'general', s, { label: `origin ${origin}` });
      await c.close();
    }
  });
});

describe('connection caps', () => {
  // Joins a room, retrying while a just-closed connection may still hold its slot.
  async function joinWithRetry(server, session, label) {
    return waitUntil(async () => {
      try {
        return await joinRoom(server, 'general', session, { label });
      } catch {
        return null;
      }
    }, { what: `${label} to be admitted` });
  }

  async function expect1013(server, session) {
    const c = await connect(server, roomPath('general'), { sessionId: session, label: 'over the cap' });
    const { code, reason } = await c.closed;
    assert.equal(code, 1013);
    assert.match(reason, /try again later/i);
  }

  function expectCapRefusal(res) {
    const err = expectError(res, 503, 'UNAVAILABLE');
    assert.match(err.message, /too many open connections/);
    assert.equal(res.headers['retry-after'], '5');
  }

  it('per client IP: HTTP gets 503 with Retry-After, a WebSocket is closed with 1013, a slot frees on close', async () => {
    const server = await startServer({
      config: { 'security.max_connections_per_ip': 3, 'security.trusted_proxies': '127.0.0.1/32' },
    });
    const s = await login(server, 'user_4');
    const open = [];
    for (let i = 0; i < 3; i++) open.push(await joinWithRetry(server, s, `socket ${i}`));
    await expect1013(server, s);
    expectCapRefusal(await api(server, 'GET', '/api/config'));
    // Counted per client IP: another client behind the trusted proxy still gets in.
    expectOk(await api(server, 'GET', '/api/config', { headers: { 'x-forwarded-for': '203.0.113.50' } }));
    await open.pop().close();
    await waitUntil(async () => (await api(server, 'GET', '/api/config')).status === 200, { what: 'a freed slot' });
    for (const c of open) await c.close();
    await waitUntil(() => /connection cap reached/.test(server.logs()), { what: 'the cap warning' });
    await server.stop();
  });

  it('in total: the same refusals once security.max_connections are open', async () => {
    const server = await startServer({ config: { 'security.max_connections': 3 } });
    const s = await login(server, 'user_5');
    const open = [];
    for (let i = 0; i < 3; i++) open.push(await joinWithRetry(server, s, `socket ${i}`));
    await expect1013(server, s);
    expectCapRefusal(await api(server, 'GET', '/healthz'));
    expectCapRefusal(await api(server, 'GET', '/api/config', { headers: { 'x-forwarded-for': '203.0.113.51' } }));
    await open.pop().close();
    await waitUntil(async () => (await api(server, 'GET', '/healthz')).status === 200, { what: 'a freed slot' });
    // Existing sockets were never disturbed.
    for (const c of open) assert.equal(c.isOpen, true);
    for (const c of open) await c.close();
    await server.stop();
  });
});

describe('session tokens', () => {
  it('never appear in the log (login, HTTP use, WebSocket use, refresh, logout), and the store holds their hash', async () => {
    const server = await startServer({ config: { 'log.level': 'debug', 'chat.min_chat_interval_ms': 0 } });
    const s = await login(server, 'user_6');
    assert.ok(s.sessionId.length >= 22, 'at least 128 bits, base64url');
    assert.ok(!UUID_V4.test(s.sessionId));
    assert.match(s.sessionId, /^[A-Za-z0-9_-]+$/);
    expectOk(await api(server, 'GET', '/api/auth/me', { token: s.sessionId }));
    const room = await joinRoom(server, 'general', s);
    await restSend(server, s, 'general', 'hello');
    await room.chat('over the socket');
    expectOk(await api(server, 'POST', '/api/auth/refresh', { token: s.sessionId }));
    expectOk(await api(server, 'POST', '/api/auth/logout', { token: s.sessionId }));
    assert.equal((await room.closed).code, 4401);
    // A request with the dead token: still not logged.
    expectError(await api(server, 'GET', '/api/auth/me', { token: s.sessionId }), 401, 'SESSION_EXPIRED');

    const kept = await login(server, 'user_7');
    await server.stop();
    const logs = server.logs();
    assert.ok(logs.includes('login user=user_6'), 'the log covers these requests');
    for (const token of [s.sessionId, kept.sessionId]) assert.ok(!logs.includes(token), 'a session id is in the log');
    // The sessions saved at shutdown are keyed by SHA-256 of the id; the id itself is nowhere in the file.
    const saved = fs.readFileSync(path.join(server.dataDir, 'sessions.json'), 'utf8');
    const hash = crypto.createHash('sha256').update(kept.sessionId).digest('hex');
    assert.ok(saved.includes(hash), 'the stored key is the hash');
    assert.ok(!saved.includes(kept.sessionId), 'the raw session id is stored');
  });

  it('in Redis, the key is session:<sha256 of the id> and no key or value holds the id itself', async (t) => {
    let redisServer;
    try { execFileSync('redis-server', ['--version']); } catch { return t.skip('redis-server is not installed'); }
    const port = await freePort();
    redisServer = spawn('redis-server', ['--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no'],
                        { stdio: 'ignore' });
    try {
      const cli = (...args) => execFileSync('redis-cli', ['-p', String(port), ...args], { encoding: 'utf8' });
      await waitUntil(() => { try { return cli('PING').trim() === 'PONG'; } catch { return false; } }, { what: 'redis-server' });
      const server = await startServer({ config: { 'redis.url': `redis://127.0.0.1:${port}/0` } });
      // Ready once its Redis links are up.
      await waitUntil(async () => (await api(server, 'GET', '/readyz')).status === 200, { what: '/readyz' });
      const s = await login(server, 'user_8');
      const hash = crypto.createHash('sha256').update(s.sessionId).digest('hex');
      const keys = cli('--scan').split('\n').filter(Boolean);
      assert.ok(keys.includes(`session:${hash}`), keys.join(' '));
      for (const key of keys) {
        assert.ok(!key.includes(s.sessionId));
        const type = cli('TYPE', key).trim();
        const value = type === 'string' ? cli('GET', key) : type === 'hash' ? cli('HGETALL', key) : '';
        assert.ok(!value.includes(s.sessionId), `${key} holds the session id`);
      }
      const ttl = Number(cli('TTL', `session:${hash}`).trim());
      assert.ok(ttl > 1100 && ttl <= 1200, `TTL ${ttl}`);
      await server.stop();
      assert.ok(!server.logs().includes(s.sessionId));
    } finally {
      redisServer.kill('SIGKILL');
    }
  });
});

describe('TLS (server.tls_cert_file / server.tls_key_file)', () => {
  let dir;
  let cert;
  let server;
  before(async () => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'switchboard-tls-'));
    execFileSync('openssl', ['req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes',
                             '-days', '1', '-subj', '/CN=localhost', '-addext', 'subjectAltName=DNS:localhost,IP:127.0.0.1',
                             '-keyout', path.join(dir, 'key.pem'), '-out', path.join(dir, 'cert.pem')], { stdio: 'ignore' });
    cert = fs.readFileSync(path.join(dir, 'cert.pem'));
    server = await startServer({
      config: { 'server.tls_cert_file': path.join(dir, 'cert.pem'), 'server.tls_key_file': path.join(dir, 'key.pem') },
    });
  });
  after(() => { if (dir) fs.rmSync(dir, { recursive: true, force: true }); });

  function httpsRequest(method, p, { body, token, headers = {}, ...tlsOptions } = {}) {
    return new Promise((resolve, reject) => {
      const payload = body === undefined ? undefined : Buffer.from(JSON.stringify(body));
      const h = { ...headers };
      if (payload) { h['content-type'] = 'application/json'; h['content-length'] = payload.length; }
      if (token) h.authorization = `Bearer ${token}`;
      const req = https.request({ host: '127.0.0.1', port: server.port, method, path: p, headers: h, ca: cert, agent: false, ...tlsOptions },
        (res) => {
          const protocol = res.socket.getProtocol();
          const chunks = [];
          res.on('data', (c) => chunks.push(c));
          res.on('end', () => {
            const text = Buffer.concat(chunks).toString('utf8');
            let json;
            try { json = JSON.parse(text); } catch { json = undefined; }
            resolve({ status: res.statusCode, headers: res.headers, text, json, protocol });
          });
        });
      req.setTimeout(15_000, () => req.destroy(new Error('HTTPS request timed out')));
      req.on('error', reject);
      req.end(payload);
    });
  }

  function wss(p, { sessionId, origin } = {}) {
    const url = new URL(p, `wss://127.0.0.1:${server.port}`);
    if (sessionId) url.searchParams.set('sessionId', sessionId);
    const ws = new WebSocket(url, { ca: cert, origin, perMessageDeflate: false });
    const client = new WsClient(ws, `wss ${p}`);
    return new Promise((resolve, reject) => {
      ws.once('open', () => resolve(client));
      ws.once('unexpected-response', (req, res) => { reject(new Error(`upgrade refused: ${res.statusCode}`)); req.destroy(); });
      ws.once('error', reject);
    });
  }

  it('logs https:// on start-up and serves the API over HTTPS with HSTS', async () => {
    await waitUntil(() => /listening on https:\/\/127\.0\.0\.1:\d+/.test(server.logs()), { what: 'the https:// start-up line' });
    const res = await httpsRequest('GET', '/api/config');
    assert.equal(res.status, 200);
    assert.match(res.headers['strict-transport-security'] ?? '', /max-age=\d+/);
    assert.equal(res.headers['x-content-type-options'], 'nosniff');
    assert.match(res.protocol, /^TLSv1\.[23]$/);
    const v12 = await httpsRequest('GET', '/healthz', { maxVersion: 'TLSv1.2' });
    assert.equal(v12.status, 200);
    assert.equal(v12.protocol, 'TLSv1.2');
  });

  it('an HTTPS login and a WSS room round trip', async () => {
    const res = await httpsRequest('POST', '/api/auth/login', { body: { userId: 'user_9' } });
    assert.equal(res.status, 200, res.text);
    const s = res.json.data;
    const me = await httpsRequest('GET', '/api/auth/me', { token: s.sessionId });
    assert.equal(me.json.data.id, 'user_9');
    const origin = `https://127.0.0.1:${server.port}`;
    const room = await wss(roomPath('general'), { sessionId: s.sessionId, origin });
    await room.waitFor('participants', (f) => f.participants.some((p) => p.id === 'user_9'));
    const echo = await room.chat('over TLS');
    assert.equal(echo.content, 'over TLS');
    assert.equal(echo.senderId, 'user_9');
    // The plain-http spelling of the own origin is another origin here.
    await assert.rejects(wss(roomPath('general'), { sessionId: s.sessionId, origin: `http://127.0.0.1:${server.port}` }),
                         /upgrade refused: 403/);
    const logout = await httpsRequest('POST', '/api/auth/logout', { token: s.sessionId });
    assert.equal(logout.status, 200);
    assert.equal((await room.closed).code, 4401);
  });

  it('plain HTTP and a certificate the client does not trust get no answer; the server keeps serving', async () => {
    const text = await new Promise((resolve) => {
      const sock = net.connect(server.port, '127.0.0.1', () => sock.write('GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n'));
      let got = '';
      sock.on('data', (d) => { got += d.toString('latin1'); });
      sock.on('error', () => {});
      sock.on('close', () => resolve(got));
    });
    assert.ok(!text.startsWith('HTTP/1.1 200'), 'plain HTTP must not be served on the TLS port');
    await assert.rejects(new Promise((resolve, reject) => {
      const s = tls.connect({ host: '127.0.0.1', port: server.port }, () => resolve(s));
      s.on('error', reject);
    }), /self[- ]signed|unable to verify/i);
    assert.equal((await httpsRequest('GET', '/healthz')).status, 200);
  });

  it('without HSTS on plain HTTP; a cert without its key stops start-up naming the key', async () => {
    const plain = await startServer();
    const res = await api(plain, 'GET', '/healthz');
    assert.equal(res.headers['strict-transport-security'], undefined);
    await plain.stop();
    const cfg = path.join(SOURCE_DIR, 'config', 'switchboard.json');
    const half = await runBinary(['--config', cfg, '--set', `server.tls_cert_file=${path.join(dir, 'cert.pem')}`]);
    assert.equal(half.code, 2);
    assert.match(half.stderr, /server\.tls_key_file/);
    const swapped = await runBinary(['--config', cfg, '--listen', '127.0.0.1:0', '--set', `data.dir=${path.join(dir, 'data')}`,
                                     '--set', `server.tls_cert_file=${path.join(dir, 'key.pem')}`,
                                     '--set', `server.tls_key_file=${path.join(dir, 'key.pem')}`]);
    assert.equal(swapped.code, 1, swapped.stderr);
    assert.match(swapped.stderr, /server\.tls_cert_file/);
  });
});

function freePort() {
  return new Promise((resolve, reject) => {
    const srv = net.createServer();
    srv.listen(0, '127.0.0.1', () => {
      const { port } = srv.address();
      srv.close(() => resolve(port));
    });
    srv.on('error', reject);
  });
}
