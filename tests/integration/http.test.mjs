// PROTOCOL.md §1–§3 over plain HTTP: the envelope, every /api endpoint of issue 2, static files, security headers
// and CORS.
//
// Readings of PROTOCOL.md where it leaves room (each asserted as written here):
// - An over-long `content` (2049 code points) in a body well under the body limit is a validation error:
//   400 VALIDATION_FAILED. 413 PAYLOAD_TOO_LARGE is only for a body over server.body_limit_bytes (64 KiB) — §1 says
//   "413, body over the limit". (The WebSocket path reports the same case as a TOO_LARGE error frame.)
// - A bad JSON *shape* (missing/wrongly typed field) is 400 VALIDATION_FAILED; a body that is not JSON at all is
//   400 BAD_REQUEST.
// - An unknown or expired token is 401 with code UNAUTHORIZED or SESSION_EXPIRED (the server cannot tell an expired
//   token from a made-up one once the store dropped it); a missing Authorization header is exactly UNAUTHORIZED.
// - `dm_user_1__ghost` is *unsorted* ("ghost" < "user_1"), so it is a 400 by §2; the unknown-user 404 is tested with
//   sorted ids (`dm_ghost__user_1`, `dm_user_1__zz_ghost`).
// - /api/users lists seeded humans first (exactly the ids of config/users.json), then the listed bots; whether live
//   guests appear is not asserted (checked before any guest logs in).
// - `POST /api/auth/logout` answers the envelope with data {success: true}.
// - HSTS must be absent on plain HTTP ("only when serving TLS").
import assert from 'node:assert/strict';
import {
  after, api, before, checkEnvelope, checkMessage, codePoints, connect, describe, displayNameOf, expectError, expectOk, it, joinRoom,
  login, personas, rawHttp, restSend, roomPath, seededUsers, sleep, startServer, UUID_V4, waitUntil,
} from './lib/harness.mjs';

const AUTH_401 = ['UNAUTHORIZED', 'SESSION_EXPIRED'];

describe('HTTP API', () => {
  let server;
  before(async () => {
    server = await startServer({
      config: {
        'chat.rate_limit_messages': 100000,
        'chat.min_chat_interval_ms': 0,
        'security.allowed_origins': 'http://app.example',
      },
    });
  });
  after(async () => { await server?.stop(); });

  describe('envelope and request ids', () => {
    it('wraps success in {success, data, meta{timestamp, requestId}} with a matching X-Request-Id', async () => {
      const res = await api(server, 'GET', '/api/config');
      assert.equal(res.status, 200);
      assert.match(res.headers['content-type'], /application\/json/);
      const body = checkEnvelope(res);
      assert.equal(body.success, true);
      assert.ok('data' in body);
      assert.equal(body.error, undefined);
      assert.match(body.meta.requestId, UUID_V4);
      assert.equal(res.headers['x-request-id'], body.meta.requestId);
      assert.ok(Math.abs(body.meta.timestamp - Date.now()) < 60_000, 'meta.timestamp is ms since the epoch');
    });

    it('wraps errors in {success:false, error{code,message}, meta} and gives each request its own id', async () => {
      const a = await api(server, 'GET', '/api/auth/me');
      const b = await api(server, 'GET', '/api/auth/me');
      const err = expectError(a, 401, 'UNAUTHORIZED');
      assert.equal(typeof err.message, 'string');
      assert.equal(a.json.data, undefined);
      assert.notEqual(a.json.meta.requestId, b.json.meta.requestId);
    });

    it('puts the request id in the server log line of that request', async () => {
      const res = await api(server, 'GET', '/api/rooms');
      const id = checkEnvelope(res).meta.requestId;
      await waitUntil(() => server.logs().includes(id), { timeoutMs: 5_000, what: `request id ${id} in the log` });
    });
  });

  describe('/api/config, /api/users, /api/rooms', () => {
    it('GET /api/config has an empty TURNSTILE_SITE_KEY and a list of wink ids', async () => {
      const data = expectOk(await api(server, 'GET', '/api/config'));
      assert.equal(data.TURNSTILE_SITE_KEY, '');
      assert.ok(Array.isArray(data.winks) && data.winks.length > 0, 'winks is a non-empty array');
      for (const w of data.winks) assert.ok(typeof w === 'string' && w.length > 0);
    });

    for (const p of ['/api/users', '/api/auth/accounts']) {
      it(`GET ${p} lists the 20 seeded users, then the listed bots`, async () => {
        const list = expectOk(await api(server, 'GET', p));
        assert.ok(Array.isArray(list));
        const seeded = seededUsers();
        assert.equal(seeded.length, 20);
        const humans = list.slice(0, 20);
        assert.deepEqual(humans.map((u) => u.id).sort(), seeded.map((u) => u.id).sort());
        for (const u of humans) {
          const s = seeded.find((x) => x.id === u.id);
          assert.equal(u.email, s.email);
          assert.equal(u.displayName, s.displayName);
          assert.equal(u.avatarId, s.avatarId);
          assert.ok(['online', 'busy', 'away', 'offline'].includes(u.status), `status of ${u.id}: ${u.status}`);
          assert.equal(u.isAiBot, false);
          assert.equal(u.botPersona, undefined);
        }
        const bots = list.slice(20);
        const listed = personas().filter((b) => b.listed);
        assert.deepEqual(bots.map((b) => b.id).sort(), listed.map((b) => b.id).sort(), 'only listed bots, after the humans');
        for (const b of bots) {
          const persona = listed.find((x) => x.id === b.id);
          assert.equal(b.isAiBot, true);
          assert.ok(b.botPersona, `bot ${b.id} has a botPersona`);
          assert.equal(b.displayName, persona.displayName);
          // No AI provider is configured here, so bots show as offline and say why (issue 4 refines PROTOCOL §3).
          assert.equal(b.status, 'offline');
          assert.match(b.personalMessage, /ai\.provider/);
          assert.equal(typeof b.email, 'string');
          assert.equal(typeof b.avatarId, 'string');
        }
      });
    }

    it('GET /api/rooms lists general and music as empty group rooms', async () => {
      const rooms = expectOk(await api(server, 'GET', '/api/rooms'));
      assert.deepEqual(rooms.map((r) => r.id), ['general', 'music']);
      assert.deepEqual(rooms[0], { id: 'general', name: 'General Chat', type: 'group', participantIds: [], unreadCount: 0 });
      assert.deepEqual(rooms[1], { id: 'music', name: 'Music 🎵', type: 'group', participantIds: [], unreadCount: 0 });
    });
  });

  describe('login, me, refresh, logout', () => {
    it('logs in a seeded user and returns an AuthSession', async () => {
      const res = await api(server, 'POST', '/api/auth/login', { body: { userId: 'user_3' } });
      const s = expectOk(res);
      assert.match(s.sessionId, /^[A-Za-z0-9_-]{22,}$/, 'sessionId: ≥128 bits, URL-safe (base64url)');
      assert.doesNotMatch(s.sessionId, /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i, 'never a UUID');
      const seeded = seededUsers().find((u) => u.id === 'user_3');
      assert.equal(s.user.id, 'user_3');
      assert.equal(s.user.email, seeded.email);
      assert.equal(s.user.displayName, seeded.displayName);
      assert.equal(s.user.avatarId, seeded.avatarId);
      assert.equal(s.user.isAiBot, false);
      assert.ok(['online', 'busy', 'away', 'offline'].includes(s.user.status));
      assert.equal(typeof s.expiresAt, 'number');
      assert.ok(Math.abs(s.expiresAt - (Date.now() + 1200_000)) < 60_000, `expiresAt ≈ now + 1200 s, got ${s.expiresAt - Date.now()} ms`);
      const again = expectOk(await api(server, 'POST', '/api/auth/login', { body: { userId: 'user_3' } }));
      assert.notEqual(again.sessionId, s.sessionId, 'each login gets a fresh session id');
    });

    it('rejects an unknown seeded id with 404 NOT_FOUND', async () => {
      expectError(await api(server, 'POST', '/api/auth/login', { body: { userId: 'user_99' } }), 404, 'NOT_FOUND');
      expectOk(await api(server, 'POST', '/api/auth/login', { body: { userId: 'user_20' } }));
    });

    it('rejects bad bodies: 400 VALIDATION_FAILED for a bad shape, 400 BAD_REQUEST for non-JSON', async () => {
      expectError(await api(server, 'POST', '/api/auth/login', { body: {} }), 400, 'VALIDATION_FAILED');
      expectError(await api(server, 'POST', '/api/auth/login', { body: { userId: 5 } }), 400, 'VALIDATION_FAILED');
      expectError(await api(server, 'POST', '/api/auth/login', { body: { username: ['x'] } }), 400, 'VALIDATION_FAILED');
      expectError(await api(server, 'POST', '/api/auth/login',
                            { body: '{"userId": "user_1"', headers: { 'content-type': 'application/json' } }),
                  400, 'BAD_REQUEST');
      expectError(await api(server, 'POST', '/api/auth/login',
                            { body: 'userId=user_1', headers: { 'content-type': 'application/json' } }),
                  400, 'BAD_REQUEST');
      expectOk(await api(server, 'POST', '/api/auth/login', { body: { userId: 'user_1' } }));
    });

    it('logs in a guest: id guest_<lower>, displayName as typed, email <lower>@guest.invalid', async () => {
      const s = expectOk(await api(server, 'POST', '/api/auth/login', { body: { username: 'Guest_One' } }));
      assert.equal(s.user.id, 'guest_guest_one');
      assert.equal(s.user.displayName, 'Guest_One');
      assert.equal(s.user.email, 'guest_one@guest.invalid');
      assert.equal(s.user.isAiBot, false);
      assert.ok(typeof s.user.avatarId === 'string' && s.user.avatarId.length > 0, 'a stock avatar');
      assert.match(s.sessionId, /^[A-Za-z0-9_-]{22,}$/);
      const me = expectOk(await api(server, 'GET', '/api/auth/me', { token: s.sessionId }));
      assert.equal(me.id, 'guest_guest_one');
      assert.equal(me.displayName, 'Guest_One');
    });

    it('enforces the guest name pattern (400 VALIDATION_FAILED) next to names that pass', async () => {
      const bad = ['ab', 'a__b', '_abc', 'abc_', '-abc', 'abc-', 'a'.repeat(21), 'has space', 'dot.name', 'é-name', ''];
      for (const username of bad) {
        expectError(await api(server, 'POST', '/api/auth/login', { body: { username } }), 400, 'VALIDATION_FAILED');
      }
      for (const username of ['abc', 'A'.repeat(20), 'x-y_z9', 'Zed_2-B']) {
        const s = expectOk(await api(server, 'POST', '/api/auth/login', { body: { username } }));
        assert.equal(s.user.id, `guest_${username.toLowerCase()}`);
      }
    });

    it('refuses guest names taken case-insensitively by a live guest, a seeded user or a bot (409 CONFLICT)', async () => {
      expectOk(await api(server, 'POST', '/api/auth/login', { body: { username: 'Dup_Guest' } }));
      const taken = ['dup_guest', 'DUP_GUEST', 'user_1', 'USER_1', 'Alex', 'alex', 'Jordan',
                     'bot_zerocool', 'zerocool', 'ZeroCool', 'clippy', 'Clippy', 'bot_tom', 'Tom', 'hal9000',
                     'numetal_matt', 'DJ_Euphoria'];
      for (const username of taken) {
        expectError(await api(server, 'POST', '/api/auth/login', { body: { username } }), 409, 'CONFLICT');
      }
      expectOk(await api(server, 'POST', '/api/auth/login', { body: { username: 'Dup_Guest2' } }));
    });

    it('frees a guest name when its session logs out', async () => {
      const s = expectOk(await api(server, 'POST', '/api/auth/login', { body: { username: 'Temp_Guest' } }));
      expectError(await api(server, 'POST', '/api/auth/login', { body: { username: 'temp_guest' } }), 409, 'CONFLICT');
      expectOk(await api(server, 'POST', '/api/auth/logout', { token: s.sessionId }));
      const again = expectOk(await api(server, 'POST', '/api/auth/login', { body: { username: 'temp_guest' } }));
      assert.equal(again.user.id, 'guest_temp_guest');
      assert.equal(again.user.displayName, 'temp_guest');
    });

    it('GET /api/auth/me needs a valid Bearer token', async () => {
      const s = await login(server, 'user_4');
      const me = expectOk(await api(server, 'GET', '/api/auth/me', { token: s.sessionId }));
      assert.equal(me.id, 'user_4');
      assert.equal(me.isAiBot, false);
      for (const k of ['id', 'email', 'displayName', 'avatarId', 'status', 'isAiBot']) assert.ok(k in me, `User.${k}`);
      expectError(await api(server, 'GET', '/api/auth/me'), 401, 'UNAUTHORIZED');
      expectError(await api(server, 'GET', '/api/auth/me', { token: 'garbage-token-0123456789abcdef' }), 401, AUTH_401);
      expectError(await api(server, 'GET', '/api/auth/me', { headers: { authorization: `Basic ${s.sessionId}` } }), 401, AUTH_401);
    });

    it('POST /api/auth/refresh keeps the sessionId and moves expiresAt forward', async () => {
      const s = await login(server, 'user_5');
      await sleep(1100);
      const r = expectOk(await api(server, 'POST', '/api/auth/refresh', { token: s.sessionId }));
      assert.equal(r.sessionId, s.sessionId);
      assert.equal(r.user.id, 'user_5');
      assert.ok(r.expiresAt > s.expiresAt, `expiresAt moved: ${s.expiresAt} -> ${r.expiresAt}`);
      assert.ok(Math.abs(r.expiresAt - (Date.now() + 1200_000)) < 60_000);
      expectError(await api(server, 'POST', '/api/auth/refresh'), 401, 'UNAUTHORIZED');
      expectError(await api(server, 'POST', '/api/auth/refresh', { token: 'nope-nope-nope-nope-nope-nope' }), 401, AUTH_401);
    });

    it('POST /api/auth/logout ends the session; unknown sessions still succeed; no header is 401', async () => {
      const s = await login(server, 'user_6');
      expectOk(await api(server, 'GET', '/api/auth/me', { token: s.sessionId }));
      const out = expectOk(await api(server, 'POST', '/api/auth/logout', { token: s.sessionId }));
      assert.equal(out.success, true);
      expectError(await api(server, 'GET', '/api/auth/me', { token: s.sessionId }), 401, AUTH_401);
      const unknown = expectOk(await api(server, 'POST', '/api/auth/logout', { token: 'never-issued-session-id-xyz' }));
      assert.equal(unknown.success, true);
      const twice = expectOk(await api(server, 'POST', '/api/auth/logout', { token: s.sessionId }));
      assert.equal(twice.success, true);
      expectError(await api(server, 'POST', '/api/auth/logout'), 401, 'UNAUTHORIZED');
    });
  });

  describe('POST /api/presence', () => {
    it('sets status, personal message and display name; shows them in /api/users', async () => {
      const s = await login(server, 'user_7');
      const data = expectOk(await api(server, 'POST', '/api/presence',
                                      { token: s.sessionId, body: { status: 'busy', personalMessage: 'brb lunch' } }));
      assert.equal(data.success, true);
      assert.equal(data.status, 'busy');
      assert.equal(data.displayName, displayNameOf('user_7'));
      const renamed = expectOk(await api(server, 'POST', '/api/presence',
                                         { token: s.sessionId, body: { status: 'away', displayName: 'Riley R.' } }));
      assert.equal(renamed.status, 'away');
      assert.equal(renamed.displayName, 'Riley R.');
      const users = expectOk(await api(server, 'GET', '/api/users'));
      const me = users.find((u) => u.id === 'user_7');
      assert.equal(me.status, 'away');
      assert.equal(me.displayName, 'Riley R.');
      // Keeping one's own current name is not impersonation.
      expectOk(await api(server, 'POST', '/api/presence', { token: s.sessionId, body: { status: 'online', displayName: 'Riley R.' } }));
    });

    it('rejects a bad status (400), no auth (401) and another user\'s or a bot\'s name (409)', async () => {
      const s = await login(server, 'user_8');
      expectError(await api(server, 'POST', '/api/presence', { token: s.sessionId, body: { status: 'sleeping' } }), 400, 'VALIDATION_FAILED');
      expectError(await api(server, 'POST', '/api/presence', { token: s.sessionId, body: { status: 5 } }), 400, 'VALIDATION_FAILED');
      expectError(await api(server, 'POST', '/api/presence', { token: s.sessionId, body: {} }), 400, 'VALIDATION_FAILED');
      expectError(await api(server, 'POST', '/api/presence', { token: s.sessionId, body: { status: 'online', displayName: 'x'.repeat(51) } }), 400, 'VALIDATION_FAILED');
      expectError(await api(server, 'POST', '/api/presence', { body: { status: 'busy' } }), 401, 'UNAUTHORIZED');
      for (const displayName of ['Alex', 'alex', 'user_1', 'ZeroCool', 'Clippy', 'bot_tom']) {
        expectError(await api(server, 'POST', '/api/presence', { token: s.sessionId, body: { status: 'online', displayName } }), 409, 'CONFLICT');
      }
      const ok = expectOk(await api(server, 'POST', '/api/presence', { token: s.sessionId, body: { status: 'online', displayName: 'J. the Great' } }));
      assert.equal(ok.displayName, 'J. the Great');
    });
  });

  describe('REST history and send', () => {
    it('POST /api/rooms/general/messages stores, answers 201 with the Message, broadcasts, and shows in history', async () => {
      const s = await login(server, 'user_9');
      const listenerSession = await login(server, 'user_10');
      const sock = await joinRoom(server, 'general', listenerSession);
      try {
        const res = await api(server, 'POST', '/api/rooms/general/messages', { token: s.sessionId, body: { content: 'hello over REST' } });
        const m = checkMessage(expectOk(res, 201), { roomId: 'general', senderId: 'user_9', content: 'hello over REST',
                                                    isNudge: false, isWink: false, type: 'chat' });
        const pushed = await sock.waitFor('chat', (f) => f.id === m.id);
        checkMessage(pushed, { roomId: 'general', senderId: 'user_9', content: 'hello over REST', type: 'chat' });
        const history = expectOk(await api(server, 'GET', '/api/rooms/general/messages?limit=10', { token: s.sessionId }));
        assert.ok(Array.isArray(history));
        assert.equal(history.at(-1).id, m.id);
        checkMessage(history.at(-1), { content: 'hello over REST', senderId: 'user_9' });
      } finally {
        await sock.close();
      }
    });

    it('keeps a valid client id and replaces an invalid one', async () => {
      const s = await login(server, 'user_11');
      const kept = await restSend(server, s, 'music', 'with my id', { id: 'rest-id_1' });
      assert.equal(kept.id, 'rest-id_1');
      const replaced = await restSend(server, s, 'music', 'with a bad id', { id: 'bad id!' });
      assert.notEqual(replaced.id, 'bad id!');
      assert.match(replaced.id, /^[A-Za-z0-9_-]{1,64}$/);
    });

    it('pages history: newest first page, oldest-first order, before=<id>, default 50, limit 1..100', async () => {
      const s = await login(server, 'user_12');
      const sent = [];
      for (let i = 0; i < 55; i++) sent.push(await restSend(server, s, 'music', `page msg ${i}`));
      const page = expectOk(await api(server, 'GET', '/api/rooms/music/messages?limit=3', { token: s.sessionId }));
      assert.deepEqual(page.map((m) => m.id), sent.slice(-3).map((m) => m.id));
      const older = expectOk(await api(server, 'GET', `/api/rooms/music/messages?limit=3&before=${encodeURIComponent(sent[52].id)}`, { token: s.sessionId }));
      assert.deepEqual(older.map((m) => m.id), sent.slice(49, 52).map((m) => m.id));
      const dflt = expectOk(await api(server, 'GET', '/api/rooms/music/messages', { token: s.sessionId }));
      assert.equal(dflt.length, 50);
      assert.deepEqual(dflt.slice(-5).map((m) => m.id), sent.slice(-5).map((m) => m.id));
      for (let i = 1; i < dflt.length; i++) assert.ok(dflt[i - 1].timestamp <= dflt[i].timestamp, 'oldest first');
      assert.equal(expectOk(await api(server, 'GET', '/api/rooms/music/messages?limit=1', { token: s.sessionId })).length, 1);
      assert.ok(expectOk(await api(server, 'GET', '/api/rooms/music/messages?limit=100', { token: s.sessionId })).length >= 55);
    });

    it('rejects bad limits (400), unknown before (404), no auth (401), and malformed+unauthenticated as 401', async () => {
      const s = await login(server, 'user_13');
      for (const q of ['limit=0', 'limit=101', 'limit=abc', 'limit=-1', 'limit=1.5']) {
        expectError(await api(server, 'GET', `/api/rooms/general/messages?${q}`, { token: s.sessionId }), 400, 'VALIDATION_FAILED');
      }
      expectError(await api(server, 'GET', '/api/rooms/general/messages?before=no-such-message', { token: s.sessionId }), 404, 'NOT_FOUND');
      expectError(await api(server, 'GET', '/api/rooms/general/messages'), 401, 'UNAUTHORIZED');
      expectError(await api(server, 'GET', '/api/rooms/general/messages?limit=abc'), 401, 'UNAUTHORIZED');
      expectError(await api(server, 'GET', '/api/rooms/bad%20id!/messages?limit=0'), 401, 'UNAUTHORIZED');
      expectOk(await api(server, 'GET', '/api/rooms/general/messages?limit=100', { token: s.sessionId }));
    });

    it('validates content: empty/whitespace/non-string 400, 2049 code points 400, 2048 emoji accepted', async () => {
      const s = await login(server, 'user_14');
      const post = (body, extra = {}) => api(server, 'POST', '/api/rooms/general/messages', { token: s.sessionId, body, ...extra });
      expectError(await post({ content: '' }), 400, 'VALIDATION_FAILED');
      expectError(await post({ content: ' \n\t  ' }), 400, 'VALIDATION_FAILED');
      expectError(await post({ content: 42 }), 400, 'VALIDATION_FAILED');
      expectError(await post({}), 400, 'VALIDATION_FAILED');
      expectError(await post('{"content": ', { headers: { 'content-type': 'application/json' } }), 400, 'BAD_REQUEST');
      // Over-long content inside a small body: a validation error, not 413 (see the note at the top).
      expectError(await post({ content: 'a'.repeat(2049) }), 400, 'VALIDATION_FAILED');
      expectError(await post({ content: '😀'.repeat(2049) }), 400, 'VALIDATION_FAILED');
      const max = '😀'.repeat(2048);
      const m = expectOk(await post({ content: max }), 201);
      assert.equal(codePoints(m.content), 2048);
      assert.equal(m.content, max);
      expectError(await api(server, 'POST', '/api/rooms/general/messages', { body: { content: 'hi' } }), 401, 'UNAUTHORIZED');
      expectError(await api(server, 'POST', '/api/rooms/general/messages', { body: { content: '' } }), 401, 'UNAUTHORIZED');
    });

    it('answers 413 PAYLOAD_TOO_LARGE for a body over 64 KiB (and accepts one just under)', async () => {
      const s = await login(server, 'user_15');
      const big = JSON.stringify({ content: 'x'.repeat(70 * 1024) });
      const res = await rawHttp(server,
        `POST /api/rooms/general/messages HTTP/1.1\r\nHost: 127.0.0.1:${server.port}\r\n` +
        `Authorization: Bearer ${s.sessionId}\r\nContent-Type: application/json\r\n` +
        `Content-Length: ${Buffer.byteLength(big)}\r\nConnection: close\r\n\r\n${big}`);
      assert.equal(res.status, 413, `got ${res.status} ${res.text.slice(0, 200)}`);
      assert.equal(res.json?.success, false);
      assert.equal(res.json?.error?.code, 'PAYLOAD_TOO_LARGE');
      // 60 KiB of JSON is under the body limit: the content rule answers (400), not the body limit.
      const under = await api(server, 'POST', '/api/rooms/general/messages',
                              { token: s.sessionId, body: { content: 'y'.repeat(60 * 1024) } });
      expectError(under, 400, 'VALIDATION_FAILED');
    });

    it('applies the room id rules of §2 to REST history and send', async () => {
      const s = await login(server, 'user_1');
      const cases = [
        ['bad%20id!', 400, 'VALIDATION_FAILED'],
        ['a'.repeat(65), 400, 'VALIDATION_FAILED'],
        ['nope', 404, 'NOT_FOUND'],
        ['dm_user_2__user_1', 400, 'VALIDATION_FAILED'],
        ['dm_user_1__user_1', 400, 'VALIDATION_FAILED'],
        ['dm_ghost__user_1', 404, 'NOT_FOUND'],
        ['dm_user_1__zz_ghost', 404, 'NOT_FOUND'],
        ['dm_user_2__user_3', 403, 'FORBIDDEN'],
      ];
      for (const [id, status, code] of cases) {
        expectError(await api(server, 'GET', `/api/rooms/${id}/messages`, { token: s.sessionId }), status, code);
        expectError(await api(server, 'POST', `/api/rooms/${id}/messages`, { token: s.sessionId, body: { content: 'hi' } }), status, code);
      }
      // The same shapes that pass: the caller's own DM (sorted) and a group room.
      assert.deepEqual(expectOk(await api(server, 'GET', '/api/rooms/dm_user_1__user_2/messages', { token: s.sessionId })), []);
      const dm = await restSend(server, s, 'dm_user_1__user_2', 'hi Jordan');
      checkMessage(dm, { roomId: 'dm_user_1__user_2', senderId: 'user_1' });
      expectOk(await api(server, 'GET', '/api/rooms/music/messages', { token: s.sessionId }));
    });
  });

  describe('routing, static files, headers, CORS', () => {
    it('answers an unknown /api path with a 404 NOT_FOUND envelope, never the web UI', async () => {
      for (const p of ['/api/whatever', '/api/', '/api/rooms/general/nope', '/api/auth/loginx']) {
        const res = await api(server, 'GET', p);
        expectError(res, 404, 'NOT_FOUND');
        assert.doesNotMatch(res.text, /<html/i);
      }
    });

    it('answers a wrong method with 405 METHOD_NOT_ALLOWED and an Allow header', async () => {
      const cases = [['DELETE', '/api/rooms', 'GET'], ['GET', '/api/auth/login', 'POST'], ['PUT', '/api/auth/me', 'GET'],
                     ['POST', '/api/config', 'GET'], ['DELETE', '/api/rooms/general/messages', 'GET']];
      const s = await login(server, 'user_17');
      for (const [method, p, allowed] of cases) {
        // Authenticated, so that no auth check can answer first.
        const res = await api(server, method, p, { token: s.sessionId, ...(method === 'GET' ? {} : { body: {} }) });
        expectError(res, 405, 'METHOD_NOT_ALLOWED');
        assert.ok(res.headers.allow, `Allow header on ${method} ${p}`);
        assert.ok(res.headers.allow.split(/\s*,\s*/).includes(allowed), `Allow: ${res.headers.allow} includes ${allowed}`);
      }
    });

    it('serves /healthz and /readyz', async () => {
      assert.equal((await api(server, 'GET', '/healthz')).status, 200);
      assert.equal((await api(server, 'GET', '/readyz')).status, 200);
    });

    it('serves the web UI at / and falls back to index.html for client-side routes', async () => {
      const root = await api(server, 'GET', '/');
      assert.equal(root.status, 200);
      assert.match(root.headers['content-type'], /text\/html/);
      assert.match(root.text, /<html|<!doctype html/i);
      const spa = await api(server, 'GET', '/some/spa/route');
      assert.equal(spa.status, 200);
      assert.match(spa.headers['content-type'], /text\/html/);
      assert.equal(spa.text, root.text, 'the fallback is index.html itself');
    });

    it('does not serve files outside the web root', async () => {
      for (const p of ['/../config/users.json', '/..%2f..%2fconfig%2fusers.json', '/%2e%2e/%2e%2e/etc/passwd', '/../../../../etc/passwd']) {
        const res = await rawHttp(server, `GET ${p} HTTP/1.1\r\nHost: 127.0.0.1:${server.port}\r\nConnection: close\r\n\r\n`);
        assert.doesNotMatch(res.text, /hotmail\.example|root:x:0:/, `${p} leaked a file`);
      }
    });

    it('sets the security headers on API, static and error responses (no HSTS without TLS)', async () => {
      for (const p of ['/api/config', '/', '/api/whatever', '/healthz']) {
        const res = await api(server, 'GET', p);
        assert.equal(res.headers['x-content-type-options'], 'nosniff', p);
        assert.equal(res.headers['referrer-policy'], 'strict-origin-when-cross-origin', p);
        assert.ok(res.headers['content-security-policy'], `Content-Security-Policy on ${p}`);
        assert.equal(res.headers['strict-transport-security'], undefined, `no HSTS over plain HTTP on ${p}`);
      }
    });

    it('echoes the own origin and configured origins, never a foreign one, never *', async () => {
      const own = await api(server, 'GET', '/api/config', { headers: { origin: server.origin } });
      assert.equal(own.headers['access-control-allow-origin'], server.origin);
      const listed = await api(server, 'GET', '/api/config', { headers: { origin: 'http://app.example' } });
      assert.equal(listed.headers['access-control-allow-origin'], 'http://app.example');
      const foreign = await api(server, 'GET', '/api/config', { headers: { origin: 'http://evil.example' } });
      assert.equal(foreign.headers['access-control-allow-origin'], undefined);
      const none = await api(server, 'GET', '/api/config');
      assert.equal(none.status, 200, 'no Origin header is allowed');
      assert.notEqual(none.headers['access-control-allow-origin'], '*');
    });

    it('answers an OPTIONS preflight from an allowed origin with 204 and the CORS headers', async () => {
      const res = await api(server, 'OPTIONS', '/api/auth/login', {
        headers: { origin: server.origin, 'access-control-request-method': 'POST',
                   'access-control-request-headers': 'content-type, authorization' },
      });
      assert.equal(res.status, 204);
      assert.equal(res.headers['access-control-allow-origin'], server.origin);
      assert.ok(res.headers['access-control-allow-methods'], 'Access-Control-Allow-Methods');
      const foreign = await api(server, 'OPTIONS', '/api/auth/login', {
        headers: { origin: 'http://evil.example', 'access-control-request-method': 'POST' },
      });
      assert.equal(foreign.headers['access-control-allow-origin'], undefined);
    });

    it('never writes a session id into the log', async () => {
      const s = await login(server, 'user_16');
      await api(server, 'GET', '/api/auth/me', { token: s.sessionId });
      await api(server, 'GET', `/api/rooms/general/messages?sessionId=${s.sessionId}`, { token: s.sessionId });
      const sock = await connect(server, roomPath('general'), { sessionId: s.sessionId });
      await sock.close();
      await api(server, 'POST', '/api/auth/logout', { token: s.sessionId });
      await sleep(300);
      assert.ok(!server.logs().includes(s.sessionId), 'the session id must not appear in the server log');
    });
  });
});

describe('HTTP rate limits (defaults for chat, login limited to 3 per 10 s)', () => {
  let server;
  before(async () => { server = await startServer({ config: { 'security.login_per_10s': 3 } }); });
  after(async () => { await server?.stop(); });

  it('REST send shares the chat rate limit: 429 RATE_LIMITED with Retry-After', async () => {
    const s = await login(server, 'user_1'); // login attempt 1 of 3
    const statuses = [];
    let limited;
    for (let i = 0; i < 20 && !limited; i++) {
      const res = await api(server, 'POST', '/api/rooms/general/messages', { token: s.sessionId, body: { content: `flood ${i}` } });
      statuses.push(res.status);
      if (res.status === 429) limited = res;
      else expectOk(res, 201);
    }
    assert.ok(limited, `expected a 429 within 20 sends, got ${statuses.join(',')}`);
    expectError(limited, 429, 'RATE_LIMITED');
    assert.match(String(limited.headers['retry-after']), /^\d+$/, 'Retry-After in seconds');
    assert.ok(statuses.filter((x) => x === 201).length <= 15, 'at most 15 accepted per 60 s');
  });

  it('limits login attempts per client IP: 429 RATE_LIMITED with Retry-After', async () => {
    // The previous test's login may or may not still be inside the 10 s window on a slow machine.
    let accepted = 0;
    let limited;
    for (const userId of ['user_2', 'user_3', 'user_4', 'user_5']) {
      const res = await api(server, 'POST', '/api/auth/login', { body: { userId } });
      if (res.status === 429) { limited = res; break; }
      expectOk(res);
      accepted++;
    }
    assert.ok(limited, 'the 4th login attempt within 10 s is refused');
    assert.ok(accepted >= 2 && accepted <= 3, `accepted ${accepted} logins before the limit`);
    expectError(limited, 429, 'RATE_LIMITED');
    assert.match(String(limited.headers['retry-after']), /^\d+$/);
  });
});
