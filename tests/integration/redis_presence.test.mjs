// Issue 3, global presence: instances sharing one real redis-server show one presence. A full sync on any instance
// lists users connected anywhere; joins, status, name, personal message and auto-away changes cross instances; a
// user goes offline only when their last presence socket anywhere closes; guests signed in on A appear on B; the
// users of a crashed instance (kill -9) go offline elsewhere through heartbeats with a TTL; a Redis outage falls
// back to local presence and recovers by itself (republish and resync), with no restart.
//
// Every instance here runs presence.heartbeat_seconds = 1 (heartbeat key TTL 3 s), so a crash shows within ~4 s.
import assert from 'node:assert/strict';
import {
  after, api, before, describe, expectError, expectOk, it, joinPresence, joinRoom, login, sleep, startServer,
  waitUntil,
} from './lib/harness.mjs';
import { haveRedis, startRedis } from './lib/redis.mjs';

const skip = !haveRedis() && 'redis-server is not installed';
const updateOf = (userId, pred = () => true) => (f) => f.type === 'presence_update' && f.userId === userId && pred(f);
const joinOf = (userId) => (f) => f.type === 'presence_join' && f.userId === userId;
const entry = (sync, userId) => sync.participants.find((p) => p.id === userId);
const fullSync = (sock) => sock.all.find((f) => f.type === 'presence_full_sync');
const usersOn = async (server) => expectOk(await api(server, 'GET', '/api/users'));
const statusOn = async (server, userId) => (await usersOn(server)).find((u) => u.id === userId)?.status;
const instances = async (redis) => (await redis.cmd('SMEMBERS', 'presence:instances')).split('\n').filter(Boolean);

function configFor(redis, extra = {}) {
  return {
    'redis.url': redis.url,
    'redis.reconnect_max_backoff_ms': 500,
    'redis.health_check_interval_ms': 500,
    'presence.heartbeat_seconds': 1,
    ...extra,
  };
}

async function startPair(config) {
  const pair = await Promise.all([startServer({ config }), startServer({ config })]);
  for (const s of pair) {
    await waitUntil(async () => (await api(s, 'GET', '/readyz')).status === 200, { what: 'readiness with Redis' });
  }
  return pair;
}

describe('global presence across instances', { skip }, () => {
  let redis;
  let a;
  let b;
  let config;
  before(async () => {
    redis = await startRedis();
    config = configFor(redis);
    [a, b] = await startPair(config);
    await waitUntil(async () => (await instances(redis)).length === 2, { what: 'both instances heartbeating' });
  });
  after(async () => {
    await Promise.all([a?.stop(), b?.stop()]);
    await redis?.stop();
  });

  it('lists a user connected only on A in full syncs and /api/users on B, with status, name and message', async () => {
    const s1 = await login(a, 'user_1');
    const p1 = await joinPresence(a, s1);
    await p1.send({ type: 'presence_update', status: 'busy', displayName: 'Alex on A', personalMessage: 'from A' });
    await waitUntil(async () => (await statusOn(b, 'user_1')) === 'busy', { what: 'user_1 busy in B\'s /api/users' });
    const u1 = (await usersOn(b)).find((u) => u.id === 'user_1');
    assert.equal(u1.displayName, 'Alex on A');
    assert.equal(u1.personalMessage, 'from A');

    const p2 = await joinPresence(b, await login(b, 'user_2'));
    const e1 = entry(fullSync(p2), 'user_1');
    assert.deepEqual(e1, { id: 'user_1', displayName: 'Alex on A', status: 'busy', personalMessage: 'from A' });
    // And the other way round: B's user is in a fresh full sync on A.
    await waitUntil(async () => (await statusOn(a, 'user_2')) === 'online', { what: 'user_2 online on A' });
    const p1b = await joinPresence(a, s1);
    assert.equal(entry(fullSync(p1b), 'user_2')?.status, 'online');
    for (const c of [p1, p1b, p2]) await c.close();
  });

  it('carries joins, status, name and personal message changes from A to presence sockets on B', async () => {
    const watcher = await joinPresence(b, await login(b, 'user_4'), { label: 'watcher@B' });
    const s3 = await login(a, 'user_3');
    const p3 = await joinPresence(a, s3);
    const joined = await watcher.next(joinOf('user_3'));
    assert.equal(joined.displayName, 'Sam');

    await p3.send({ type: 'presence_update', status: 'away', personalMessage: 'coffee ☕' });
    assert.deepEqual(await watcher.next(updateOf('user_3')),
                     { type: 'presence_update', userId: 'user_3', displayName: 'Sam', status: 'away',
                       personalMessage: 'coffee ☕' });
    await p3.send({ type: 'presence_update', status: 'busy', displayName: 'Sammy' });
    const renamed = await watcher.next(updateOf('user_3', (f) => f.displayName === 'Sammy'));
    assert.equal(renamed.status, 'busy');
    // Over REST on A, too.
    expectOk(await api(a, 'POST', '/api/presence', { token: s3.sessionId, body: { status: 'online', personalMessage: 'REST' } }));
    const rest = await watcher.next(updateOf('user_3', (f) => f.personalMessage === 'REST'));
    assert.equal(rest.status, 'online');
    // A taken name stays refused on A (B's users are known there): nothing crosses.
    await p3.send({ type: 'presence_update', status: 'online', displayName: 'user_4', id: 'bad-name' });
    assert.equal((await p3.waitError('bad-name')).code, 'FORBIDDEN');
    await watcher.expectNone(updateOf('user_3', (f) => f.displayName === 'user_4'), 1000, 'a refused name');
    assert.equal((await usersOn(b)).find((u) => u.id === 'user_3').displayName, 'Sammy');
    await p3.close();
    await watcher.close();
  });

  it('keeps a user connected to A and B online until their last socket anywhere closes', async () => {
    const s5 = await login(a, 'user_5');
    const onA = await joinPresence(a, s5, { label: 'user_5@A' });
    const onB = await joinPresence(b, s5, { label: 'user_5@B' });
    const watchA = await joinPresence(a, await login(a, 'user_6'), { label: 'watch@A' });
    const watchB = await joinPresence(b, await login(b, 'user_7'), { label: 'watch@B' });

    await onA.close();
    // Well past a heartbeat: nobody was told user_5 left, and both instances still say online.
    await watchA.expectNone(updateOf('user_5', (f) => f.status === 'offline'), 2500, 'an early offline on A');
    await watchB.expectNone(updateOf('user_5', (f) => f.status === 'offline'), 0, 'an early offline on B');
    assert.equal(await statusOn(a, 'user_5'), 'online');
    assert.equal(await statusOn(b, 'user_5'), 'online');

    await onB.close();
    for (const w of [watchA, watchB]) {
      const off = await w.next(updateOf('user_5', (f) => f.status === 'offline'));
      assert.equal(off.displayName, 'Casey');
    }
    assert.equal(await statusOn(a, 'user_5'), 'offline');
    assert.equal(await statusOn(b, 'user_5'), 'offline');
    const late = await joinPresence(b, await login(b, 'user_8'));
    assert.notEqual(entry(fullSync(late), 'user_5')?.status, 'online');
    for (const c of [watchA, watchB, late]) await c.close();
  });

  it('shows a guest signed in on A on B, reserves the name there, and drops it when the guest leaves', async () => {
    const watcher = await joinPresence(b, await login(b, 'user_9'), { label: 'watcher@B' });
    const guest = await login(a, 'Zed');
    assert.equal(guest.user.id, 'guest_zed');
    const pg = await joinPresence(a, guest);
    const joined = await watcher.next(joinOf('guest_zed'));
    assert.equal(joined.displayName, 'Zed');
    const listed = (await usersOn(b)).find((u) => u.id === 'guest_zed');
    assert.equal(listed?.status, 'online');
    assert.equal(listed.avatarId, guest.user.avatarId);
    // B knows the name is taken, though the guest never talked to B.
    expectError(await api(b, 'POST', '/api/auth/login', { body: { username: 'ZED' } }), 409, 'CONFLICT');
    const fresh = await joinPresence(b, await login(b, 'user_10'));
    assert.equal(entry(fullSync(fresh), 'guest_zed')?.displayName, 'Zed');

    expectOk(await api(a, 'POST', '/api/auth/logout', { token: guest.sessionId }));
    await pg.closed;
    await watcher.next(updateOf('guest_zed', (f) => f.status === 'offline'));
    await waitUntil(async () => !(await usersOn(b)).some((u) => u.id === 'guest_zed'), { what: 'the guest gone from B' });
    const again = await login(b, 'Zed');  // the name is free again
    assert.equal(again.user.id, 'guest_zed');
    expectOk(await api(b, 'POST', '/api/auth/logout', { token: again.sessionId }));
    for (const c of [watcher, fresh]) await c.close();
  });

  it('ignores (and logs) malformed publications on the presence channel, next to working ones', async () => {
    const watcher = await joinPresence(b, await login(b, 'user_11'), { label: 'watcher@B' });
    const p12 = await joinPresence(a, await login(a, 'user_12'));
    await watcher.next(joinOf('user_12'));
    for (const payload of ['not json', '{"type":"user","userId":"user_12","connected":false}',
                           '{"type":"bye"}', '{"type":"sync","live":[]}']) {
      assert.ok(Number(await redis.cmd('PUBLISH', 'switchboard:presence', payload)) >= 2);
    }
    await p12.send({ type: 'presence_update', status: 'busy' });
    await watcher.next(updateOf('user_12', (f) => f.status === 'busy'));
    await watcher.expectNone(updateOf('user_12', (f) => f.status === 'offline'), 300, 'an offline from garbage');
    assert.equal(await statusOn(b, 'user_12'), 'busy');
    await waitUntil(() => b.logs().includes('unreadable publication'), { what: 'the warning in B\'s log' });
    assert.equal(a.exitStatus, null);
    assert.equal(b.exitStatus, null);
    await p12.close();
    await watcher.close();
  });

  it('keeps each instance\'s connected users and a heartbeat with a TTL in Redis', async () => {
    const p13 = await joinPresence(a, await login(a, 'user_13'));
    const ids = await instances(redis);
    assert.equal(ids.length, 2);
    let holder;
    await waitUntil(async () => {
      for (const id of ids) {
        if (await redis.cmd('HEXISTS', `presence:instance:${id}`, 'user_13') === '1') holder = id;
      }
      return holder;
    }, { what: 'user_13 in an instance hash' });
    const snapshot = JSON.parse(await redis.cmd('HGET', `presence:instance:${holder}`, 'user_13'));
    assert.equal(snapshot.connected, true);
    assert.equal(snapshot.sockets, true);
    for (const id of ids) {
      const ttl = Number(await redis.cmd('PTTL', `presence:alive:${id}`));
      assert.ok(ttl > 0 && ttl <= 3000, `presence:alive:${id} PTTL ${ttl}`);
    }
    await p13.close();
    await waitUntil(async () => (await redis.cmd('HEXISTS', `presence:instance:${holder}`, 'user_13')) === '0',
                    { what: 'user_13 removed from the hash' });
  });

  it('takes the users of a crashed instance (kill -9) offline elsewhere within a few heartbeat TTLs', async () => {
    const before = await instances(redis);
    const c = await startServer({ config });
    await waitUntil(async () => (await instances(redis)).length === before.length + 1, { what: 'C heartbeating' });
    const cId = (await instances(redis)).find((id) => !before.includes(id));
    const watcher = await joinPresence(b, await login(b, 'user_14'), { label: 'watcher@B' });
    const p15 = await joinPresence(c, await login(c, 'user_15'));
    await watcher.next(joinOf('user_15'));
    assert.equal(await statusOn(a, 'user_15'), 'online');

    c.kill('SIGKILL');
    const t0 = Date.now();
    await c.exited;
    const off = await watcher.next(updateOf('user_15', (f) => f.status === 'offline'), 30_000);
    const elapsed = Date.now() - t0;
    assert.equal(off.displayName, 'Charlie');
    // TTL 3 s plus at most one heartbeat period; the production default (10 s, TTL 30 s) stays under 60 s.
    assert.ok(elapsed < 15_000, `offline after ${elapsed} ms`);
    await waitUntil(async () => (await statusOn(a, 'user_15')) === 'offline', { what: 'offline on A too' });
    assert.ok(!(await instances(redis)).includes(cId), 'the dead instance left presence:instances');
    assert.equal(await redis.cmd('EXISTS', `presence:instance:${cId}`), '0');
    await p15.closed;
    await watcher.close();
    await c.stop();
  });
});

describe('auto-away across instances (presence.away_after_seconds = 2)', { skip }, () => {
  let redis;
  let a;
  let b;
  before(async () => {
    redis = await startRedis();
    [a, b] = await startPair(configFor(redis, { 'presence.away_after_seconds': 2 }));
  });
  after(async () => {
    await Promise.all([a?.stop(), b?.stop()]);
    await redis?.stop();
  });

  it('shows an idle user on A as away on B, and back on activity', async () => {
    const idle = await login(a, 'user_1');
    const watcher = await joinPresence(b, await login(b, 'user_2'), { label: 'watcher@B' });
    const p = await joinPresence(a, idle, { autoPong: false });
    const room = await joinRoom(a, 'general', idle, { autoPong: false });
    await p.send({ type: 'presence_update', status: 'busy' });
    await watcher.next(updateOf('user_1', (f) => f.status === 'busy'));
    watcher.clear();
    await watcher.next(updateOf('user_1', (f) => f.status === 'away'), 20_000);
    assert.equal(await statusOn(b, 'user_1'), 'away');
    await room.chat('back');
    const back = await watcher.next(updateOf('user_1', (f) => f.status !== 'away'), 10_000);
    assert.equal(back.status, 'busy');
    for (const c of [watcher, p, room]) await c.close();
  });

  it('keeps a user active on B present although their socket on A is idle', async () => {
    const s3 = await login(a, 'user_3');
    const watcher = await joinPresence(a, await login(a, 'user_4'), { label: 'watcher@A' });
    const idleOnA = await joinPresence(a, s3, { autoPong: false, label: 'user_3@A' });
    const activeOnB = await joinPresence(b, s3, { autoPong: false, label: 'user_3@B' });
    let pinging = true;
    const pinger = (async () => {
      while (pinging) {
        await activeOnB.send({ type: 'ping' });
        await sleep(400);
      }
    })();
    // Several idle periods of A's socket: user_3 stays online everywhere while B's socket is active.
    await watcher.expectNone(updateOf('user_3', (f) => f.status === 'away'), 6000, 'away while active on B');
    assert.equal(await statusOn(a, 'user_3'), 'online');
    assert.equal(await statusOn(b, 'user_3'), 'online');
    pinging = false;
    await pinger;
    // Idle on both: away.
    await watcher.next(updateOf('user_3', (f) => f.status === 'away'), 20_000);
    for (const c of [watcher, idleOnA, activeOnB]) await c.close();
  });
});

describe('global presence through a Redis outage', { skip }, () => {
  let redis;
  let a;
  let b;
  before(async () => {
    redis = await startRedis();
    // The harness's Redis keeps nothing, so it comes back empty and the sessions are gone; the session sweep is
    // slowed to its maximum (60 s) so the sockets opened before the outage stay open during the test (as with a
    // Redis that keeps its data) and it can watch their presence come back without anyone reconnecting.
    [a, b] = await startPair(configFor(redis, { 'session.sweep_interval_seconds': 60 }));
  });
  after(async () => {
    await Promise.all([a?.stop(), b?.stop()]);
    await redis?.stop();
  });

  it('falls back to local presence while Redis is down, then republishes and resyncs without a restart', async () => {
    const p1 = await joinPresence(a, await login(a, 'user_1'), { label: 'user_1@A' });
    const p2 = await joinPresence(b, await login(b, 'user_2'), { label: 'user_2@B' });
    await waitUntil(async () => (await statusOn(b, 'user_1')) === 'online' && (await statusOn(a, 'user_2')) === 'online',
                    { what: 'each instance showing the other\'s user' });
    p1.clear(); p2.clear();

    await redis.kill();
    // After the TTL without Redis, each instance shows only its own users.
    await p2.next(updateOf('user_1', (f) => f.status === 'offline'), 20_000);
    await p1.next(updateOf('user_2', (f) => f.status === 'offline'), 20_000);
    assert.equal(await statusOn(b, 'user_2'), 'online');
    assert.equal(await statusOn(a, 'user_1'), 'online');
    assert.ok(p1.isOpen && p2.isOpen, 'presence sockets stay open');

    await redis.start();  // empty
    const t0 = Date.now();
    await p2.next(updateOf('user_1', (f) => f.status === 'online'), 20_000);
    await p1.next(updateOf('user_2', (f) => f.status === 'online'), 20_000);
    const recoveredMs = Date.now() - t0;
    assert.ok(recoveredMs < 10_000, `presence recovered in ${recoveredMs} ms`);
    assert.equal((await instances(redis)).length, 2);
    // A new socket's full sync on B lists A's user again, and /api/users agrees.
    const fresh = await joinPresence(b, await login(b, 'user_3'));
    assert.equal(entry(fullSync(fresh), 'user_1')?.status, 'online');
    assert.equal(await statusOn(b, 'user_1'), 'online');
    for (const s of [a, b]) assert.equal(s.exitStatus, null, 'no instance crashed');
    for (const c of [p1, p2, fresh]) await c.close();
  });
});
