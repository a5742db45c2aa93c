// Turnstile on login (PROTOCOL §3 login rules, issue "login protection"): with a secret configured no session is
// created without a token that siteverify accepted. Runs against tests/fakes/fake_siteverify.mjs on loopback.
import assert from 'node:assert/strict';
import crypto from 'node:crypto';

import { startFakeSiteverify } from '../fakes/fake_siteverify.mjs';
import {
  after, api, before, describe, expectError, expectOk, it, startServer, UUID_V4, waitUntil,
} from './lib/harness.mjs';

const SECRET = 'test-secret-0123456789abcdef';
const SITE_KEY = '1x00000000000000000000AA';
const TIMEOUT_MS = 3000;

const login = (server, body, headers = {}) => api(server, 'POST', '/api/auth/login', { body, headers });
const fresh = (label) => `${label}-${crypto.randomBytes(8).toString('hex')}`;
const unique = (token) => `${token}#${crypto.randomBytes(6).toString('hex')}`;
const guestName = () => `g${crypto.randomBytes(5).toString('hex')}`;

describe('Turnstile verification on login', () => {
  let sv;
  let server;
  before(async () => {
    sv = await startFakeSiteverify({ secret: SECRET, stallMs: 20_000 });
    server = await startServer({
      config: {
        'turnstile.secret_key': SECRET,
        'turnstile.site_key': SITE_KEY,
        'turnstile.verify_url': sv.url,
        'turnstile.timeout_ms': TIMEOUT_MS,
        'security.trusted_proxies': '127.0.0.1/32',
        // One I/O thread: a login waiting on siteverify must not hold up anyone else.
        'server.threads': 1,
      },
    });
  });
  after(async () => { await sv?.close(); });

  it('/api/config hands out the site key', async () => {
    const data = expectOk(await api(server, 'GET', '/api/config'));
    assert.equal(data.TURNSTILE_SITE_KEY, SITE_KEY);
  });

  it('a good token signs in, after one form POST with secret, response, remoteip and a UUID idempotency_key', async () => {
    const token = fresh('good');
    const session = expectOk(await login(server, { userId: 'user_3', token }));
    assert.equal(session.user.id, 'user_3');
    expectOk(await api(server, 'GET', '/api/auth/me', { token: session.sessionId }));
    const [call, ...more] = sv.requestsFor(token);
    assert.equal(more.length, 0, 'one siteverify call per login');
    assert.match(call.headers['content-type'], /^application\/x-www-form-urlencoded/);
    assert.equal(call.body.secret, SECRET);
    assert.equal(call.body.response, token);
    assert.equal(call.body.remoteip, '127.0.0.1');
    assert.match(call.body.idempotency_key, UUID_V4);
    // Guests too.
    const guest = expectOk(await login(server, { username: guestName(), token: fresh('good') }));
    assert.equal(guest.user.id.startsWith('guest_'), true);
  });

  it('remoteip is the client address that trusted proxies report', async () => {
    const token = fresh('proxied');
    expectOk(await login(server, { userId: 'user_4', token }, { 'x-forwarded-for': '198.51.100.23' }));
    assert.equal(sv.requestsFor(token)[0].body.remoteip, '198.51.100.23');
  });

  for (const [token, words] of [
    ['fail', /not accepted/],
    ['expired', /expired or was already used/],
    ['bad-request', /reload the page/],
    ['error:missing-input-response', /Complete the human check/],
    ['error:something-new', /not accepted/],
  ]) {
    it(`siteverify's "${token}" answer is 403 TURNSTILE_FAILED with a sentence a person understands`, async () => {
      const err = expectError(await login(server, { userId: 'user_5', token }), 403, 'TURNSTILE_FAILED');
      assert.match(err.message, words);
    });
  }

  it("a replayed token is refused: siteverify says timeout-or-duplicate, the login says it was already used", async () => {
    const token = fresh('once');
    expectOk(await login(server, { userId: 'user_6', token }));
    const err = expectError(await login(server, { userId: 'user_6', token }), 403, 'TURNSTILE_FAILED');
    assert.match(err.message, /already used/);
    const calls = sv.requestsFor(token);
    assert.equal(calls.length, 2);
    assert.notEqual(calls[0].body.idempotency_key, calls[1].body.idempotency_key, 'each login has its own key');
  });

  it('a missing, empty or null token is refused without calling siteverify', async () => {
    const before = sv.requests.length;
    for (const body of [{ userId: 'user_7' }, { userId: 'user_7', token: '' }, { userId: 'user_7', token: null },
                        { username: guestName() }]) {
      const err = expectError(await login(server, body), 403, 'TURNSTILE_FAILED');
      assert.match(err.message, /human check/);
    }
    expectError(await login(server, { userId: 'user_7', token: 42 }), 400, 'VALIDATION_FAILED');
    assert.equal(sv.requests.length, before, 'no siteverify request');
  });

  it('a 3000-character token is refused without calling siteverify', async () => {
    const before = sv.requests.length;
    const token = 'x'.repeat(3000);
    const err = expectError(await login(server, { userId: 'user_7', token }), 403, 'TURNSTILE_FAILED');
    assert.match(err.message, /longer than a genuine one/);
    assert.equal(sv.requests.length, before);
    // 2048 characters is still a token siteverify gets to judge.
    const long = `good-${'y'.repeat(2043)}`;
    expectOk(await login(server, { userId: 'user_7', token: long }));
    assert.equal(sv.requestsFor(long).length, 1);
  });

  it('a bad request is answered before the token is spent', async () => {
    const token = fresh('kept');
    expectError(await login(server, { userId: 'user_999', token }), 404, 'NOT_FOUND');
    expectError(await login(server, { username: 'x', token }), 400, 'VALIDATION_FAILED');
    assert.equal(sv.requestsFor(token).length, 0);
    expectOk(await login(server, { userId: 'user_8', token }));
  });

  it('stalling siteverify: 503 UNAVAILABLE after the timeout, no session, and nobody else waits', async () => {
    const name = guestName();
    const started = Date.now();
    let settled = false;
    const pending = login(server, { username: name, token: 'stall' }).finally(() => { settled = true; });
    // The single I/O thread keeps serving while siteverify is silent.
    await waitUntil(() => sv.requestsFor('stall').length > 0, { what: 'the stalled siteverify call' });
    expectOk(await api(server, 'GET', '/healthz'));
    assert.equal(settled, false, 'healthz was answered while the login still waited');
    const res = await pending;
    const err = expectError(res, 503, 'UNAVAILABLE');
    assert.match(err.message, /try again/);
    assert.ok(res.headers['retry-after'], 'Retry-After');
    const elapsed = Date.now() - started;
    assert.ok(elapsed >= TIMEOUT_MS - 100 && elapsed < TIMEOUT_MS + 8000, `answered after ${elapsed} ms`);
    // No session and no reserved name: the same guest name signs in with a good token.
    assert.ok(!server.logs().includes(`login user=guest_${name}`));
    expectOk(await login(server, { username: name, token: fresh('good') }));
  });

  it('malformed JSON or an HTTP 500 from siteverify fails closed with 503 (an HTTP 500 is retried once)', async () => {
    expectError(await login(server, { userId: 'user_9', token: 'malformed' }), 503, 'UNAVAILABLE');
    const before = sv.requestsFor('http500').length;
    expectError(await login(server, { userId: 'user_9', token: 'http500' }), 503, 'UNAVAILABLE');
    const calls = sv.requestsFor('http500').slice(before);
    assert.equal(calls.length, 2);
    assert.equal(calls[0].body.idempotency_key, calls[1].body.idempotency_key);
  });

  it("Cloudflare's internal-error is retried with the same idempotency key", async () => {
    const token = fresh('flaky:t');
    expectOk(await login(server, { userId: 'user_10', token }));
    const calls = sv.requestsFor(token);
    assert.equal(calls.length, 2);
    assert.equal(calls[0].body.idempotency_key, calls[1].body.idempotency_key);
    // Persistent internal errors end in 503, not a blamed visitor.
    expectError(await login(server, { userId: 'user_10', token: 'internal-error' }), 503, 'UNAVAILABLE');
  });

  it('a secret siteverify refuses is 503 (the server is misconfigured, not the visitor) and logged as an error', async () => {
    const err = expectError(await login(server, { userId: 'user_11', token: 'error:invalid-input-secret' }),
                            503, 'UNAVAILABLE');
    assert.match(err.message, /misconfigured/);
    await waitUntil(() => /siteverify refused turnstile\.secret_key \(invalid-input-secret\)/.test(server.logs()),
                    { what: 'the error log line' });
  });

  it('neither the secret nor any token appears in the log', async () => {
    const token = fresh('secretive');
    expectOk(await login(server, { userId: 'user_12', token }));
    expectError(await login(server, { userId: 'user_12', token }), 403, 'TURNSTILE_FAILED');
    await waitUntil(() => server.logs().includes('rejected: timeout-or-duplicate'), { what: 'the rejection log line' });
    const logs = server.logs();
    assert.ok(!logs.includes(SECRET), 'secret in the log');
    assert.ok(!logs.includes(token), 'token in the log');
    assert.ok(!logs.includes('good-'), 'token in the log');
  });
});

describe('Turnstile: siteverify down, hostname and action checks', () => {
  let sv;
  before(async () => { sv = await startFakeSiteverify({ secret: SECRET }); });
  after(async () => { await sv?.close(); });

  it('siteverify unreachable: 503 UNAVAILABLE and no session', async () => {
    const gone = await startFakeSiteverify({ secret: SECRET });
    const url = gone.url;
    await gone.close(); // nothing listens on that port any more
    const server = await startServer({ config: { 'turnstile.secret_key': SECRET, 'turnstile.verify_url': url } });
    const name = guestName();
    const err = expectError(await login(server, { username: name, token: fresh('good') }), 503, 'UNAVAILABLE');
    assert.match(err.message, /try again/);
    expectError(await login(server, { userId: 'user_1', token: fresh('good') }), 503, 'UNAVAILABLE');
    assert.ok(!/login user=/.test(server.logs()), 'no session was created');
    // The log is written by a background thread: wait for the line rather than read the pipe at once.
    await waitUntil(() => /failed closed/.test(server.logs()), { what: 'the "failed closed" log line' });
    await server.stop();
  });

  it('turnstile.expected_hostname and expected_action refuse a token solved elsewhere', async () => {
    const server = await startServer({
      config: {
        'turnstile.secret_key': SECRET, 'turnstile.verify_url': sv.url,
        'turnstile.expected_hostname': 'localhost', 'turnstile.expected_action': '',
      },
    });
    expectOk(await login(server, { userId: 'user_1', token: unique('host:localhost') }));
    const err = expectError(await login(server, { userId: 'user_1', token: unique('host:evil.example') }), 403,
                            'TURNSTILE_FAILED');
    assert.match(err.message, /another site/);
    await server.stop();

    const strict = await startServer({
      config: { 'turnstile.secret_key': SECRET, 'turnstile.verify_url': sv.url, 'turnstile.expected_action': 'login' },
    });
    expectOk(await login(strict, { userId: 'user_1', token: unique('action:login') }));
    expectError(await login(strict, { userId: 'user_1', token: unique('action:signup') }), 403, 'TURNSTILE_FAILED');
    expectError(await login(strict, { userId: 'user_1', token: fresh('plain') }), 403, 'TURNSTILE_FAILED');
    await strict.stop();
  });

  it("Cloudflare's dummy secrets behave as documented (always fail, already spent)", async () => {
    for (const [secret, words] of [['2x0000000000000000000000000000000AA', /not accepted/],
                                   ['3x0000000000000000000000000000000AA', /already used/]]) {
      const server = await startServer({ config: { 'turnstile.secret_key': secret, 'turnstile.verify_url': sv.url } });
      const err = expectError(await login(server, { userId: 'user_2', token: 'XXXX.DUMMY.TOKEN.XXXX' }), 403,
                              'TURNSTILE_FAILED');
      assert.match(err.message, words);
      await server.stop();
    }
  });

  it('without a secret, login needs no token and start-up logs exactly one warning', async () => {
    const server = await startServer({ config: { 'turnstile.verify_url': sv.url } });
    const before = sv.requests.length;
    expectOk(await login(server, { userId: 'user_2' }));
    expectOk(await login(server, { userId: 'user_2', token: 'ignored' }));
    assert.equal(sv.requests.length, before, 'no siteverify call without a secret');
    const warnings = server.logs().split('\n').filter((l) => l.includes('turnstile.secret_key is not set'));
    assert.equal(warnings.length, 1, server.logs());
    assert.equal(expectOk(await api(server, 'GET', '/api/config')).TURNSTILE_SITE_KEY, '');
    await server.stop();
  });
});
