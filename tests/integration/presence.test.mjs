// PROTOCOL.md §6: the global presence socket — connect sequence, presence_update fan-out (other users and the
// user's own other tabs), errors, multi-tab offline, "Appear Offline", personal messages, auto-away.
//
// Readings of PROTOCOL.md where it leaves room:
// - presence_full_sync lists at least every connected user once (de-duplicated); whether offline seeded users are
//   listed too is not asserted.
// - The presence_join and presence_full_sync of a new socket may come in either order after the system line.
// - A presence_update whose displayName is another user's (or a bot's) gets a FORBIDDEN error frame, as a room
//   `presence` frame does (§5) and as POST /api/presence refuses it with 409.
// - A change made over REST (POST /api/presence) has no sending socket, so it reaches every presence socket,
//   the user's own included.
// - "Activity" that ends auto-away is any content frame from the user; the test uses a room chat (a `ping` may or
//   may not count, so the idle user sends nothing, and its sockets don't answer protocol pings either).
import assert from 'node:assert/strict';
import {
  after, api, before, connect, describe, displayNameOf, expectOk, it, joinPresence, joinRoom, login, PRESENCE_PATH,
  sleep, startServer,
} from './lib/harness.mjs';

const updateOf = (userId, pred = () => true) => (f) => f.type === 'presence_update' && f.userId === userId && pred(f);
const joinOf = (userId) => (f) => f.type === 'presence_join' && f.userId === userId;

function entry(sync, userId) {
  const ids = sync.participants.map((p) => p.id);
  assert.equal(new Set(ids).size, ids.length, `full sync is de-duplicated: ${ids}`);
  return sync.participants.find((p) => p.id === userId);
}

describe('presence', () => {
  let server;
  const sessions = {};
  const s = (id) => sessions[id];
  before(async () => {
    server = await startServer();
    for (let i = 1; i <= 14; i++) sessions[`user_${i}`] = await login(server, `user_${i}`);
  });
  after(async () => { await server?.stop(); });

  it('connect sequence: system line, presence_join to all (self included), presence_full_sync', async () => {
    const p1 = await connect(server, PRESENCE_PATH, { sessionId: s('user_1'), label: 'p1' });
    const first = await p1.next();
    assert.equal(first.type, 'system');
    assert.equal(first.content, 'Connected to Global Presence');
    const join = await p1.next(joinOf('user_1'));
    assert.equal(join.displayName, 'Alex');
    const sync = await p1.waitFor('presence_full_sync');
    const me = entry(sync, 'user_1');
    assert.ok(me, 'the full sync lists the new user');
    assert.equal(me.displayName, 'Alex');
    assert.equal(me.status, 'online');
    for (const p of sync.participants) {
      assert.equal(typeof p.displayName, 'string');
      assert.ok(['online', 'busy', 'away', 'offline'].includes(p.status));
    }

    const p2 = await connect(server, PRESENCE_PATH, { sessionId: s('user_2'), label: 'p2' });
    const j2 = await p1.next(joinOf('user_2'));
    assert.equal(j2.displayName, 'Jordan');
    await p2.next(joinOf('user_2'));
    const sync2 = await p2.waitFor('presence_full_sync');
    assert.equal(entry(sync2, 'user_1').status, 'online');
    assert.equal(entry(sync2, 'user_2').status, 'online');
    // A second tab: still one entry per user.
    const p1b = await joinPresence(server, s('user_1'), { label: 'p1b' });
    const sync3 = p1b.all.find((f) => f.type === 'presence_full_sync');
    assert.ok(entry(sync3, 'user_1'));
    for (const c of [p1, p2, p1b]) await c.close();
  });

  it('presence_update reaches other users and the user\'s other tabs, not the sending socket', async () => {
    const a = await joinPresence(server, s('user_3'), { label: 'p3a' });
    const b = await joinPresence(server, s('user_3'), { label: 'p3b' });
    const o = await joinPresence(server, s('user_4'), { label: 'p4' });
    await a.send({ type: 'presence_update', status: 'busy', personalMessage: 'studying' });
    const seen = await o.next(updateOf('user_3'));
    assert.deepEqual(seen, { type: 'presence_update', userId: 'user_3', displayName: displayNameOf('user_3'),
                             status: 'busy', personalMessage: 'studying' });
    assert.deepEqual(await b.next(updateOf('user_3')), seen);
    // Sentinel from another user: handled after user_3's update, so a's buffer is final for it.
    await o.send({ type: 'presence_update', status: 'away' });
    await a.next(updateOf('user_4', (f) => f.status === 'away'));
    assert.deepEqual(a.pending(updateOf('user_3')), [], 'the sending socket gets no echo');
    const users = expectOk(await api(server, 'GET', '/api/users'));
    const u3 = users.find((u) => u.id === 'user_3');
    assert.equal(u3.status, 'busy');
    assert.equal(u3.personalMessage, 'studying');

    // Display names: a new one propagates; another user's or a bot's is refused.
    await a.send({ type: 'presence_update', status: 'busy', displayName: 'Sammy' });
    assert.equal((await o.next(updateOf('user_3'))).displayName, 'Sammy');
    for (const [displayName, id] of [['Taylor', 'n1'], ['user_4', 'n2'], ['Ask Jeeves', 'n3']]) {
      await a.send({ type: 'presence_update', status: 'busy', displayName, id });
      const e = await a.waitFor('error', (f) => f.ackId === id || f.ackId === undefined);
      assert.equal(e.code, 'FORBIDDEN', `displayName ${displayName}`);
    }
    await sleep(200);
    assert.ok(!o.pending(updateOf('user_3')).some((f) => f.displayName !== 'Sammy'), 'refused names are not broadcast');
    for (const c of [a, b, o]) await c.close();
  });

  it('rejects an invalid presence frame with an error frame and keeps the socket open', async () => {
    const a = await joinPresence(server, s('user_5'));
    const o = await joinPresence(server, s('user_14'));
    for (const [frame, id] of [[{ type: 'presence_update', status: 'sleeping', id: 'x1' }, 'x1'],
                               [{ type: 'presence_update', id: 'x2' }, 'x2'],
                               [{ type: 'presence_update', status: 3, id: 'x3' }, 'x3'],
                               [{ type: 'presence_update', status: 'busy', personalMessage: 5, id: 'x4' }, 'x4'],
                               [{ type: 'teleport', id: 'x5' }, 'x5']]) {
      await a.send(frame);
      const e = await a.waitError(id);
      assert.equal(e.code, 'INVALID_PAYLOAD', JSON.stringify(frame));
      assert.ok(e.content.length > 3);
    }
    await a.sendRaw('{oops');
    assert.equal((await a.waitFor('error')).code, 'INVALID_PAYLOAD');
    await a.send({ type: 'ping' });
    await sleep(200);
    assert.deepEqual(o.pending(updateOf('user_5')), [], 'invalid updates are not broadcast');
    await a.send({ type: 'presence_update', status: 'away' });
    assert.equal((await o.next(updateOf('user_5'))).status, 'away');
    assert.deepEqual(a.pending((f) => f.type === 'error'), [], 'no error for ping or a valid update');
    await a.close(); await o.close();
  });

  it('multi-tab: a user goes offline only when the last presence socket closes', async () => {
    const t1 = await joinPresence(server, s('user_6'), { label: 't1' });
    const t2 = await joinPresence(server, s('user_6'), { label: 't2' });
    const o = await joinPresence(server, s('user_7'), { label: 'observer' });
    await t1.close();
    await sleep(300);
    await t2.send({ type: 'presence_update', status: 'busy' });
    await o.next(updateOf('user_6', (f) => f.status === 'busy'));
    assert.deepEqual(o.pending(updateOf('user_6', (f) => f.status === 'offline')), [], 'still online with one tab');
    await t2.close();
    const off = await o.next(updateOf('user_6', (f) => f.status === 'offline'));
    assert.equal(off.displayName, displayNameOf('user_6'));
    await o.close();
  });

  it('appear offline: others see offline in updates, full syncs, /api/users and room participants; no join for new tabs', async () => {
    const hidden = await joinPresence(server, s('user_8'), { label: 'hidden' });
    const o = await joinPresence(server, s('user_9'), { label: 'o9' });
    const room9 = await joinRoom(server, 'general', s('user_9'));
    await hidden.send({ type: 'presence_update', status: 'offline' });
    await o.next(updateOf('user_8', (f) => f.status === 'offline'));
    const users = expectOk(await api(server, 'GET', '/api/users'));
    assert.equal(users.find((u) => u.id === 'user_8').status, 'offline');

    const late = await joinPresence(server, s('user_10'), { label: 'o10' });
    const sync = late.all.find((f) => f.type === 'presence_full_sync');
    const e8 = entry(sync, 'user_8');
    assert.ok(e8, 'an appear-offline user is listed');
    assert.equal(e8.status, 'offline');

    // A new tab of the hidden user announces nothing to others.
    o.clear(); late.clear();
    const hidden2 = await joinPresence(server, s('user_8'), { label: 'hidden2' });
    const sentinel = await joinPresence(server, s('user_11'), { label: 'o11' });
    await o.next(joinOf('user_11'));
    await late.next(joinOf('user_11'));
    assert.deepEqual(o.pending(joinOf('user_8')), [], 'no presence_join for the hidden user\'s new tab');
    assert.deepEqual(late.pending(joinOf('user_8')), []);

    // In a room, too.
    const room8 = await joinRoom(server, 'general', s('user_8'));
    const p = await room9.waitFor('participants', (f) => f.participants.some((x) => x.id === 'user_8'));
    assert.equal(p.participants.find((x) => x.id === 'user_8').status, 'offline');
    for (const c of [hidden, hidden2, o, late, sentinel, room8, room9]) await c.close();
  });

  it('personal messages over REST and WebSocket reach every presence socket and later full syncs', async () => {
    const own = await joinPresence(server, s('user_12'), { label: 'own' });
    const o = await joinPresence(server, s('user_13'), { label: 'o13' });
    expectOk(await api(server, 'POST', '/api/presence', { token: s('user_12').sessionId,
                                                        body: { status: 'online', personalMessage: 'new pm via REST' } }));
    const seen = await o.next(updateOf('user_12'));
    assert.equal(seen.personalMessage, 'new pm via REST');
    assert.equal(seen.status, 'online');
    assert.equal(seen.displayName, displayNameOf('user_12'));
    assert.equal((await own.next(updateOf('user_12'))).personalMessage, 'new pm via REST');
    await own.send({ type: 'presence_update', status: 'busy', personalMessage: 'and via WS ✨' });
    assert.equal((await o.next(updateOf('user_12'))).personalMessage, 'and via WS ✨');
    const fresh = await joinPresence(server, s('user_14'), { label: 'fresh' });
    const sync = fresh.all.find((f) => f.type === 'presence_full_sync');
    assert.equal(entry(sync, 'user_12').personalMessage, 'and via WS ✨');
    assert.equal(entry(sync, 'user_12').status, 'busy');
    for (const c of [own, o, fresh]) await c.close();
  });
});

describe('presence auto-away (presence.away_after_seconds = 2)', () => {
  let server;
  before(async () => { server = await startServer({ config: { 'presence.away_after_seconds': 2 } }); });
  after(async () => { await server?.stop(); });

  it('sets away after the idle time and restores the previous status on activity', async () => {
    const idle = await login(server, 'user_1');
    const watcher = await login(server, 'user_2');
    const o = await joinPresence(server, watcher, { label: 'watcher' });
    const p = await joinPresence(server, idle, { label: 'idle', autoPong: false });
    const room = await joinRoom(server, 'general', idle, { autoPong: false });
    await p.send({ type: 'presence_update', status: 'busy' });
    await o.next(updateOf('user_1', (f) => f.status === 'busy'));
    o.clear(); // anything older than the busy update is stale
    const t0 = Date.now();
    const away = await o.next(updateOf('user_1', (f) => f.status === 'away'), 20_000);
    assert.ok(Date.now() - t0 >= 1500, `away after ${Date.now() - t0} ms of idleness (configured 2 s)`);
    assert.equal(away.displayName, 'Alex');
    const users = expectOk(await api(server, 'GET', '/api/users'));
    assert.equal(users.find((u) => u.id === 'user_1').status, 'away');
    await room.chat('I am back');
    const back = await o.next(updateOf('user_1', (f) => f.status !== 'away'), 10_000);
    assert.equal(back.status, 'busy', 'the previous status comes back');
    for (const c of [o, p, room]) await c.close();
  });
});
