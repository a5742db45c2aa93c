// Issue 3, cross-instance fan-out: two `switchboard` instances (A and B) sharing one real redis-server act as one
// chat service. Chats, nudges, winks, typing and acks cross instances in the same order with the same ids;
// history on join, REST pages and since= resume agree on both; each instance holds one subscription per room,
// however many local members it has; a deletion on A blanks the messages on B too.
import assert from 'node:assert/strict';
import crypto from 'node:crypto';
import {
  after, api, before, describe, expectOk, it, joinPresence, joinRoom, login, restSend, startServer, waitUntil,
} from './lib/harness.mjs';
import { haveRedis, startRedis } from './lib/redis.mjs';

const skip = !haveRedis() && 'redis-server is not installed';
const newId = () => `c-${crypto.randomBytes(6).toString('hex')}`;
const chatIds = (frames) => frames.filter((f) => f.type === 'chat').map((f) => f.id);

describe('two instances, one room', { skip }, () => {
  let redis;
  let a;
  let b;
  before(async () => {
    redis = await startRedis();
    const config = {
      'redis.url': redis.url,
      'chat.min_chat_interval_ms': 0,
      'chat.rate_limit_messages': 1000,
      'chat.roster_refresh_seconds': 1,
    };
    [a, b] = await Promise.all([startServer({ config }), startServer({ config })]);
  });
  after(async () => {
    await Promise.all([a?.stop(), b?.stop()]);
    await redis?.stop();
  });

  it('delivers chats from A to B in order with the same ids, and both sides see one order', async () => {
    const sa = await login(a, 'user_1');
    const sb = await login(b, 'user_2');
    const onA = await joinRoom(a, 'general', sa);
    const onB = await joinRoom(b, 'general', sb);
    // A second socket per instance: the instance still holds one subscription per room.
    const watchA = await joinRoom(a, 'general', await login(a, 'user_3'));
    const watchB = await joinRoom(b, 'general', await login(b, 'user_4'));
    assert.equal(await redis.cmd('PUBSUB', 'NUMSUB', 'room:general'), 'room:general\n2');

    // Both senders at once, as fast as they can: every socket must see the same interleaving.
    const fromA = Array.from({ length: 15 }, (_, i) => ({ id: newId(), content: `a${i}` }));
    const fromB = Array.from({ length: 15 }, (_, i) => ({ id: newId(), content: `b${i}` }));
    await Promise.all([
      (async () => { for (const m of fromA) await onA.send({ type: 'chat', ...m }); })(),
      (async () => { for (const m of fromB) await onB.send({ type: 'chat', ...m }); })(),
    ]);
    const all = new Set([...fromA, ...fromB].map((m) => m.id));
    for (const sock of [onA, onB, watchA, watchB]) {
      await waitUntil(() => chatIds(sock.all).filter((id) => all.has(id)).length === all.size,
                      { what: `${sock.label}: all 30 chats` });
    }
    const order = chatIds(watchA.all).filter((id) => all.has(id));
    for (const sock of [onA, onB, watchB]) {
      assert.deepEqual(chatIds(sock.all).filter((id) => all.has(id)), order, `${sock.label} saw another order`);
    }
    // Each sender's own messages keep their relative order.
    assert.deepEqual(order.filter((id) => fromA.some((m) => m.id === id)), fromA.map((m) => m.id));
    assert.deepEqual(order.filter((id) => fromB.some((m) => m.id === id)), fromB.map((m) => m.id));
    for (const s of [onA, onB, watchA, watchB]) await s.close();
  });

  it('lists members of every instance in participants, drops those who leave and those of a crashed instance',
     async () => {
    const ids = (f) => f.participants.map((p) => p.id).sort().join(',');
    const onA = await joinRoom(a, 'music', await login(a, 'user_11'));
    const onB = await joinRoom(b, 'music', await login(b, 'user_12'));
    await onA.waitFor('participants', (f) => ids(f) === 'user_11,user_12');
    const both = await onB.waitFor('participants', (f) => ids(f) === 'user_11,user_12');
    assert.ok(both.participants.every((p) => typeof p.displayName === 'string' && p.status === 'online'));
    // One entry per user, even when the user is in the room on both instances.
    const alsoOnB = await joinRoom(b, 'music', await login(b, 'user_11'));
    const lastList = (sock) => sock.all.filter((f) => f.type === 'participants').at(-1);
    assert.equal(ids(lastList(alsoOnB)), 'user_11,user_12');

    // A third instance with a member in the room, then kill -9: the others drop its member after three
    // roster periods (1 s here), without any "left" line from the dead instance.
    const c = await startServer({ config: { 'redis.url': redis.url, 'chat.roster_refresh_seconds': 1 } });
    const onC = await joinRoom(c, 'music', await login(c, 'user_13'));
    await onA.waitFor('participants', (f) => ids(f) === 'user_11,user_12,user_13');
    await onC.waitFor('participants', (f) => ids(f) === 'user_11,user_12,user_13');
    const t0 = Date.now();
    c.kill('SIGKILL');
    await onA.waitFor('participants', (f) => ids(f) === 'user_11,user_12', 15_000);
    await onB.waitFor('participants', (f) => ids(f) === 'user_11,user_12', 15_000);
    const goneMs = Date.now() - t0;
    assert.ok(goneMs < 10_000, `a crashed instance's members dropped out after ${goneMs} ms`);

    // Leaving: user_12's only socket closes on B; A's list loses it.
    await onB.close();
    await onA.waitFor('participants', (f) => ids(f) === 'user_11');
    for (const sock of [onA, alsoOnB]) await sock.close();
    await c.stop();
  });

  it('drops a room\'s subscription when its last local member leaves, and resumes it without missing anything',
     async () => {
    const room = 'dm_user_15__user_16';
    const channel = `room:${room}`;
    const numsub = async () => Number((await redis.cmd('PUBSUB', 'NUMSUB', channel)).split('\n')[1]);
    const s15 = await login(a, 'user_15');
    const onA = await joinRoom(a, room, s15);
    const onB = await joinRoom(b, room, await login(b, 'user_16'));
    await waitUntil(async () => (await numsub()) === 2, { what: 'a subscription per instance' });
    const seen = await onA.chat('before A goes quiet');
    await onB.waitFor('chat', (m) => m.id === seen.id);
    await onA.close();
    await waitUntil(async () => (await numsub()) === 1, { what: 'A lets go of the room', timeoutMs: 10_000 });
    // B keeps chatting while A holds no subscription; A must still show it afterwards.
    const whileAway = await onB.chat('while A was away');
    const resumed = await joinRoom(a, room, s15, { since: seen.id });
    const frame = await resumed.waitFor('history');
    assert.equal(frame.resumed, true);
    assert.deepEqual(frame.messages.map((m) => m.id), [whileAway.id]);
    await waitUntil(async () => (await numsub()) === 2, { what: 'A subscribed again' });
    const after = await onB.chat('and after');
    await resumed.waitFor('chat', (m) => m.id === after.id);
    await resumed.close();
    await onB.close();
  });

  it('relays nudges, winks, typing and read receipts across instances', async () => {
    const sa = await login(a, 'user_5');
    const sb = await login(b, 'user_6');
    const onA = await joinRoom(a, 'music', sa);
    const onB = await joinRoom(b, 'music', sb);

    await onA.send({ type: 'typing', isTyping: true });
    const typing = await onB.waitFor('typing', (f) => f.senderId === 'user_5');
    assert.equal(typing.isTyping, true);

    await onA.send({ type: 'nudge', id: 'n-1' });
    const nudge = await onB.waitFor('nudge', (f) => f.id === 'n-1');
    assert.equal(nudge.senderId, 'user_5');
    await onA.send({ type: 'wink', winkId: 'kiss', id: 'w-1' });
    const wink = await onB.waitFor('chat', (f) => f.id === 'w-1');
    assert.equal(wink.isWink, true);
    assert.equal(wink.winkId, 'kiss');

    const sent = await onB.chat('read me');
    await onA.waitFor('chat', (f) => f.id === sent.id);
    await onA.send({ type: 'ack', ackId: sent.id, status: 'read' });
    const receipt = await onB.waitFor('delivery_status', (f) => f.ackId === sent.id);
    assert.equal(receipt.status, 'read');
    // The status is stored in the shared log: history read on B shows it.
    const page = expectOk(await api(b, 'GET', '/api/rooms/music/messages?limit=5', { token: sb.sessionId }));
    assert.equal(page.find((m) => m.id === sent.id)?.status, 'read');
    await onA.close();
    await onB.close();
  });

  it('gives the same history, pages and since= resume on both instances', async () => {
    const s1 = await login(a, 'user_7');
    const s2 = await login(b, 'user_8');
    const ids = [];
    for (let i = 0; i < 6; i++) ids.push((await restSend(i % 2 ? b : a, i % 2 ? s2 : s1, 'general', `h${i}`)).id);

    const tokenA = s1.sessionId;
    const pageA = expectOk(await api(a, 'GET', '/api/rooms/general/messages?limit=6', { token: tokenA }));
    const pageB = expectOk(await api(b, 'GET', '/api/rooms/general/messages?limit=6', { token: s2.sessionId }));
    assert.deepEqual(pageA.map((m) => m.id), ids);
    assert.deepEqual(pageB, pageA);
    const olderA = expectOk(await api(a, 'GET', `/api/rooms/general/messages?before=${ids[2]}&limit=2`, { token: tokenA }));
    const olderB = expectOk(await api(b, 'GET', `/api/rooms/general/messages?before=${ids[2]}&limit=2`, { token: tokenA }));
    assert.deepEqual(olderA.map((m) => m.id), ids.slice(0, 2));
    assert.deepEqual(olderB, olderA);

    const joinA = await joinRoom(a, 'general', s1);
    const joinB = await joinRoom(b, 'general', s2);
    const historyA = await joinA.waitFor('history');
    const historyB = await joinB.waitFor('history');
    assert.deepEqual(historyB.messages.map((m) => m.id), historyA.messages.map((m) => m.id));
    assert.deepEqual(historyA.messages.slice(-6).map((m) => m.id), ids);
    await joinA.close();
    await joinB.close();

    const resumeA = await joinRoom(a, 'general', s1, { since: ids[3] });
    const resumeB = await joinRoom(b, 'general', s2, { since: ids[3] });
    const ra = await resumeA.waitFor('history');
    const rb = await resumeB.waitFor('history');
    assert.equal(ra.resumed, true);
    assert.deepEqual(ra.messages.map((m) => m.id), ids.slice(4));
    assert.deepEqual(rb.messages.map((m) => m.id), ra.messages.map((m) => m.id));
    await resumeA.close();
    await resumeB.close();
  });

  it('answers a retried send with the stored message, whichever instance gets the retry', async () => {
    const s = await login(a, 'user_9');
    const id = newId();
    const first = await restSend(a, s, 'music', 'only once', { id });
    const retry = await restSend(b, s, 'music', 'only once', { id });
    assert.equal(retry.id, first.id);
    assert.equal(retry.timestamp, first.timestamp);
    const page = expectOk(await api(b, 'GET', '/api/rooms/music/messages?limit=20', { token: s.sessionId }));
    assert.equal(page.filter((m) => m.id === id).length, 1);
  });

  it('carries a DM and its notification to the other instance', async () => {
    const s10 = await login(a, 'user_10');
    const s11 = await login(b, 'user_11');
    const dm = 'dm_user_10__user_11';
    const presence11 = await joinPresence(b, s11);
    const onA = await joinRoom(a, dm, s10);
    const onB = await joinRoom(b, dm, s11);
    const sent = await onA.chat('across the wire');
    // joinRoom's round trip for a DM does not wait for B's room to load from the shared log; on a slow machine it
    // loads after A's message is stored, and the message arrives in B's history frame instead of live. Either
    // way it arrives, and only once.
    const isIt = (m) => m.id === sent.id && m.content === 'across the wire';
    await onB.next((f) => (f.type === 'chat' && isIt(f)) || (f.type === 'history' && f.messages.some(isIt)));
    await onB.expectNone((f) => (f.type === 'chat' && f.id === sent.id) ||
                                (f.type === 'history' && f.messages.some((m) => m.id === sent.id)), 300, 'a second copy');
    const note = await presence11.waitFor('message_notification', (f) => f.message?.id === sent.id);
    assert.equal(note.message.senderId, 'user_10');
    for (const sock of [presence11, onA, onB]) await sock.close();
  });

  it('blanks a deleted user\'s messages on the other instance too', async () => {
    const s12 = await login(a, 'user_12');
    const s13 = await login(b, 'user_13');
    const watcher = await joinRoom(b, 'music', s13);
    const secret = 'a sentence that must vanish';
    const sent = await restSend(a, s12, 'music', secret);
    await watcher.waitFor('chat', (f) => f.id === sent.id);
    expectOk(await api(a, 'DELETE', '/api/users/me/messages', { token: s12.sessionId }));
    const gone = await watcher.waitFor('messages_deleted', (f) => f.senderId === 'user_12');
    assert.ok(gone.ids.includes(sent.id));
    const page = expectOk(await api(b, 'GET', '/api/rooms/music/messages?limit=50', { token: s13.sessionId }));
    const placeholder = page.find((m) => m.id === sent.id);
    assert.equal(placeholder.deleted, true);
    assert.equal(placeholder.content, '');
    const dump = await redis.cmd('HGETALL', 'room:music:messages');
    assert.ok(!dump.includes(secret), 'the text is still in Redis');
    await watcher.close();
  });
});
