// PROTOCOL.md §1 (upgrade auth and Origin), §3 (upgrade refusals), §4 (sessions: sliding TTL, expiry and logout
// closing sockets with 4401) and §5 heartbeat.
//
// Readings of PROTOCOL.md where it leaves room:
// - A refused upgrade is an HTTP response carrying the §1 envelope. An unknown/expired session is 401 with code
//   UNAUTHORIZED or SESSION_EXPIRED; a missing one is exactly UNAUTHORIZED.
// - A plain GET (no Upgrade) with a valid session on a WebSocket path is 426 UPGRADE_REQUIRED with
//   `Upgrade: websocket`. The combination "no Upgrade and no session" is not asserted (whether a missing Upgrade
//   counts as "malformed" for the 401-first rule is open).
// - Only frames count as activity for the idle-expiry test; the idle client sends none (and does not answer
//   protocol-level pings, so a server that counted pongs cannot keep it alive either). The heartbeat test uses the
//   same silent client: the heartbeat is about frames from the client, and a client that answers nothing is
//   silent by any reading.
// - The close reason of 4401 is "Session expired" (case-insensitive match), also after a logout.
import assert from 'node:assert/strict';
import {
  after, api, before, connect, describe, expectError, expectOk, expectUpgradeRefused, it, joinPresence, joinRoom,
  login, PRESENCE_PATH, roomPath, sleep, startServer, withTimeout,
} from './lib/harness.mjs';

const AUTH_401 = ['UNAUTHORIZED', 'SESSION_EXPIRED'];

function checkRefusal(err, status, codes) {
  assert.equal(err.status, status, `HTTP ${err.status}: ${err.text}`);
  assert.match(String(err.headers['content-type']), /application\/json/);
  assert.equal(err.json?.success, false);
  assert.ok((Array.isArray(codes) ? codes : [codes]).includes(err.json?.error?.code), `code ${err.json?.error?.code}`);
  assert.ok(typeof err.json?.error?.message === 'string' && err.json.error.message.length > 3);
}

describe('WebSocket upgrades and logout', () => {
  let server;
  const issued = [];
  before(async () => {
    server = await startServer({
      config: { 'security.allowed_origins': 'http://app.example', 'session.sweep_interval_seconds': 1 },
    });
  });
  after(async () => { await server?.stop(); });
  const loginTracked = async (who) => { const s = await login(server, who); issued.push(s.sessionId); return s; };

  it('refuses an upgrade without a session (401 envelope) and with a bad one (401)', async () => {
    for (const p of [roomPath('general'), PRESENCE_PATH]) {
      checkRefusal(await expectUpgradeRefused(server, p), 401, 'UNAUTHORIZED');
      checkRefusal(await expectUpgradeRefused(server, p, { sessionId: 'not-a-real-session-0123456789' }), 401, AUTH_401);
      checkRefusal(await expectUpgradeRefused(server, p, { headers: { authorization: 'Bearer not-a-real-session-0123456789' } }), 401, AUTH_401);
    }
    // Bad session and bad room: the 401 comes first.
    checkRefusal(await expectUpgradeRefused(server, roomPath('bad%20id!')), 401, 'UNAUTHORIZED');
    const s = await loginTracked('user_1');
    const ok = await connect(server, roomPath('general'), { sessionId: s });
    await ok.close();
  });

  it('accepts the session as a Bearer header on the upgrade', async () => {
    const s = await loginTracked('user_2');
    const room = await connect(server, roomPath('general'), { headers: { authorization: `Bearer ${s.sessionId}` } });
    await room.waitFor('participants', (f) => f.participants.some((p) => p.id === 'user_2'));
    const presence = await connect(server, PRESENCE_PATH, { headers: { authorization: `Bearer ${s.sessionId}` } });
    await presence.waitFor('presence_full_sync');
    await room.close(); await presence.close();
  });

  it('applies the room id rules of §2 to upgrades', async () => {
    const s = await loginTracked('user_1');
    for (const [id, status, code] of [['bad%20id!', 400, 'VALIDATION_FAILED'], ['a'.repeat(65), 400, 'VALIDATION_FAILED'],
                                      ['nope', 404, 'NOT_FOUND'], ['dm_user_2__user_1', 400, 'VALIDATION_FAILED'],
                                      ['dm_user_1__user_1', 400, 'VALIDATION_FAILED'], ['dm_ghost__user_1', 404, 'NOT_FOUND'],
                                      ['dm_user_2__user_3', 403, 'FORBIDDEN']]) {
      checkRefusal(await expectUpgradeRefused(server, roomPath(id), { sessionId: s }), status, code);
    }
    const err = await expectUpgradeRefused(server, '/api/ws/nowhere', { sessionId: s });
    assert.equal(err.status, 404);
    const music = await connect(server, roomPath('music'), { sessionId: s });
    await music.close();
  });

  it('answers a non-upgrade GET on a WebSocket path with 426 and Upgrade: websocket', async () => {
    const s = await loginTracked('user_3');
    for (const p of [`${roomPath('general')}?sessionId=${s.sessionId}`, `${PRESENCE_PATH}?sessionId=${s.sessionId}`]) {
      const res = await api(server, 'GET', p);
      expectError(res, 426, 'UPGRADE_REQUIRED');
      assert.match(String(res.headers.upgrade), /^websocket$/i);
    }
  });

  it('refuses an upgrade from a foreign Origin (403) and accepts the own and configured origins', async () => {
    const s = await loginTracked('user_4');
    for (const p of [roomPath('general'), PRESENCE_PATH]) {
      checkRefusal(await expectUpgradeRefused(server, p, { sessionId: s, origin: 'http://evil.example' }), 403, 'FORBIDDEN');
      for (const origin of [server.origin, 'http://app.example', undefined]) {
        const c = await connect(server, p, { sessionId: s, origin });
        await c.close();
      }
    }
  });

  it('logout closes that session\'s room and presence sockets with 4401, and nobody else\'s', async () => {
    const s = await loginTracked('user_5');
    const other = await loginTracked('user_6');
    const room = await joinRoom(server, 'general', s);
    const presence = await joinPresence(server, s);
    const bystander = await joinRoom(server, 'general', other);
    expectOk(await api(server, 'POST', '/api/auth/logout', { token: s.sessionId }));
    for (const c of [room, presence]) {
      const closed = await withTimeout(c.closed, 20_000, 'close after logout');
      assert.equal(closed.code, 4401);
      assert.match(closed.reason, /session expired/i);
    }
    await bystander.sync();
    assert.ok(bystander.isOpen, 'another session keeps its socket');
    checkRefusal(await expectUpgradeRefused(server, roomPath('general'), { sessionId: s }), 401, AUTH_401);
    await bystander.close();
  });

  it('never logs a session id (query-string upgrades included)', async () => {
    await sleep(200);
    const logs = server.logs();
    for (const id of issued) assert.ok(!logs.includes(id), 'a session id appears in the server log');
  });
});

describe('session expiry (ttl 3 s, sweep 1 s, touch 1 s)', () => {
  let server;
  before(async () => {
    server = await startServer({
      config: { 'session.ttl_seconds': 3, 'session.sweep_interval_seconds': 1, 'session.touch_interval_seconds': 1 },
    });
  });
  after(async () => { await server?.stop(); });

  it('closes an idle session\'s sockets with 4401 soon after expiry, and the token stops working', async () => {
    const s = await login(server, 'user_1');
    const t0 = Date.now();
    const room = await connect(server, roomPath('general'), { sessionId: s, autoPong: false });
    const presence = await connect(server, PRESENCE_PATH, { sessionId: s, autoPong: false });
    for (const c of [room, presence]) {
      const closed = await withTimeout(c.closed, 20_000, 'close of an idle session');
      assert.equal(closed.code, 4401, `close code ${closed.code} ${closed.reason}`);
      assert.match(closed.reason, /session expired/i);
    }
    const after = Date.now() - t0;
    assert.ok(after >= 1500, `closed after ${after} ms, before the 3 s TTL could have run out`);
    expectError(await api(server, 'GET', '/api/auth/me', { token: s.sessionId }), 401, AUTH_401);
    checkRefusal(await expectUpgradeRefused(server, PRESENCE_PATH, { sessionId: s }), 401, AUTH_401);
  });

  it('keeps a session alive past its TTL while frames flow (sliding expiry), then expires it once idle', async () => {
    const s = await login(server, 'user_2');
    const room = await connect(server, roomPath('general'), { sessionId: s, autoPong: false });
    const until = Date.now() + 7_000; // more than twice the TTL
    while (Date.now() < until) {
      await room.send({ type: 'ping' });
      await sleep(400);
      assert.ok(room.isOpen, `socket closed while active: ${JSON.stringify(room.closeInfo)}`);
    }
    expectOk(await api(server, 'GET', '/api/auth/me', { token: s.sessionId }));
    const closed = await withTimeout(room.closed, 20_000, 'close once idle');
    assert.equal(closed.code, 4401);
  });

  it('POST /api/auth/refresh extends a session at once', async () => {
    const s = await login(server, 'user_3');
    for (let i = 0; i < 5; i++) {
      await sleep(1000);
      const r = expectOk(await api(server, 'POST', '/api/auth/refresh', { token: s.sessionId }));
      assert.equal(r.sessionId, s.sessionId);
      assert.ok(r.expiresAt - Date.now() > 1500 && r.expiresAt - Date.now() <= 3_500, `expiresAt in ${r.expiresAt - Date.now()} ms`);
    }
    expectOk(await api(server, 'GET', '/api/auth/me', { token: s.sessionId }));
  });
});

describe('heartbeat (chat.heartbeat_timeout_seconds = 2)', () => {
  let server;
  before(async () => { server = await startServer({ config: { 'chat.heartbeat_timeout_seconds': 2 } }); });
  after(async () => { await server?.stop(); });

  it('closes a silent room socket with 1011 and keeps a pinging one open', async () => {
    const quiet = await login(server, 'user_1');
    const chatty = await login(server, 'user_2');
    const silent = await connect(server, roomPath('general'), { sessionId: quiet, autoPong: false });
    const alive = await connect(server, roomPath('general'), { sessionId: chatty }); // behaves like a browser
    const t0 = Date.now();
    let closed = null;
    silent.closed.then((c) => { closed = c; });
    while (!closed && Date.now() - t0 < 20_000) {
      await alive.send({ type: 'ping' });
      await sleep(300);
    }
    assert.ok(closed, 'silent socket closed within 20 s');
    assert.equal(closed.code, 1011);
    assert.match(closed.reason, /heartbeat/i);
    assert.ok(Date.now() - t0 >= 1500, 'not before the 2 s timeout');
    assert.ok(alive.isOpen, 'the pinging socket stays open');
    const m = await alive.chat('still alive');
    assert.equal(m.senderId, 'user_2');
    await alive.close();
  });
});
