// PROTOCOL.md §2 DM ids, §5 direct rooms and §6 message_notification.
//
// Readings of PROTOCOL.md where it leaves room:
// - "message_notification ... to the sender's other tabs": the server cannot tell which presence socket belongs to
//   the browser tab that sent the chat over its room socket, so every presence socket of the sender gets it (the
//   client de-duplicates by message id). Users who are neither sender nor recipient get nothing.
// - An empty DM sends nothing at all on connect (no system line, no history frame, no joined/participants).
// - A REST send into a DM notifies like a WebSocket chat ("broadcast exactly like a WebSocket chat").
import assert from 'node:assert/strict';
import {
  after, api, before, checkMessage, connect, describe, expectOk, expectUpgradeRefused, it, joinPresence, joinRoom,
  login, restSend, roomPath, sleep, startServer,
} from './lib/harness.mjs';

const DM = 'dm_user_1__user_2';
const isNotification = (id) => (f) => f.type === 'message_notification' && f.message?.id === id;

describe('direct messages', () => {
  let server;
  const sessions = {};
  const s = (id) => sessions[id];
  before(async () => {
    server = await startServer({ config: { 'chat.rate_limit_messages': 100000, 'chat.min_chat_interval_ms': 0 } });
    for (const id of ['user_1', 'user_2', 'user_3']) sessions[id] = await login(server, id);
  });
  after(async () => { await server?.stop(); });


  it('both participants chat; no system, joined or participants frames in a DM', async () => {
    const a = await connect(server, roomPath(DM), { sessionId: s('user_1'), label: 'a' });
    await a.sync();
    const b = await connect(server, roomPath(DM), { sessionId: s('user_2'), label: 'b' });
    await b.sync();
    const m1 = await a.chat('psst Jordan');
    checkMessage(m1, { roomId: DM, senderId: 'user_1', content: 'psst Jordan', type: 'chat', isNudge: false, isWink: false });
    assert.deepEqual(await b.waitFor('chat', (f) => f.id === m1.id), m1);
    const m2 = await b.chat('hey Alex');
    checkMessage(m2, { roomId: DM, senderId: 'user_2' });
    assert.deepEqual(await a.waitFor('chat', (f) => f.id === m2.id), m2);
    await sleep(300);
    for (const c of [a, b]) {
      const kinds = c.all.filter((f) => !(f.type === 'error' && String(f.ackId).startsWith('sync-')));
      assert.deepEqual(kinds.filter((f) => f.type !== 'chat'), [], 'only chat frames in a DM');
    }
    await a.close();
    // Rejoining a DM with history: the history frame, still no system frames.
    const again = await connect(server, roomPath(DM), { sessionId: s('user_1') });
    const h = await again.waitFor('history');
    assert.equal(h.roomId, DM);
    assert.deepEqual(h.messages.map((m) => m.id), [m1.id, m2.id]);
    await sleep(300);
    assert.deepEqual(again.all.filter((f) => f.type === 'system' || f.type === 'participants'), []);
    await again.close();
    await b.close();
  });

  it('refuses a third user (403), an unsorted or doubled id (400) and an unknown user (404)', async () => {
    const third = await expectUpgradeRefused(server, roomPath(DM), { sessionId: s('user_3') });
    assert.equal(third.status, 403);
    assert.equal(third.json?.success, false);
    assert.equal(third.json?.error?.code, 'FORBIDDEN');
    for (const [id, status, code] of [['dm_user_2__user_1', 400, 'VALIDATION_FAILED'],
                                      ['dm_user_1__user_1', 400, 'VALIDATION_FAILED'],
                                      ['dm_ghost__user_1', 404, 'NOT_FOUND'],
                                      ['dm_user_1__zz_ghost', 404, 'NOT_FOUND']]) {
      const err = await expectUpgradeRefused(server, roomPath(id), { sessionId: s('user_1') });
      assert.equal(err.status, status, `${id}: ${err.text}`);
      assert.equal(err.json?.error?.code, code, id);
    }
    // The participants themselves get in.
    const ok = await connect(server, roomPath('dm_user_1__user_3'), { sessionId: s('user_3') });
    await ok.sync();
    await ok.close();
  });

  it('message_notification reaches every presence socket of the recipient and of the sender, nobody else', async () => {
    const p1a = await joinPresence(server, s('user_1'), { label: 'p1a' });
    const p1b = await joinPresence(server, s('user_1'), { label: 'p1b' });
    const p2a = await joinPresence(server, s('user_2'), { label: 'p2a' });
    const p2b = await joinPresence(server, s('user_2'), { label: 'p2b' });
    const p3 = await joinPresence(server, s('user_3'), { label: 'p3' });
    const a = await joinRoom(server, DM, s('user_1'));

    const m = await a.chat('ping you on presence');
    for (const p of [p2a, p2b, p1a, p1b]) {
      const n = await p.next(isNotification(m.id));
      checkMessage(n.message, { roomId: DM, senderId: 'user_1', content: 'ping you on presence', type: 'chat' });
    }
    // Nudges and winks notify too.
    await a.send({ type: 'nudge' });
    const nudge = await a.waitFor('nudge');
    const nn = await p2a.next(isNotification(nudge.id));
    assert.equal(nn.message.isNudge, true);
    const { winks } = expectOk(await api(server, 'GET', '/api/config'));
    await a.send({ type: 'wink', winkId: winks[0] });
    const wink = await a.waitFor('chat', (f) => f.isWink);
    const wn = await p2b.next(isNotification(wink.id));
    assert.equal(wn.message.winkId, winks[0]);
    // A REST send into the DM notifies as well.
    const viaRest = await restSend(server, s('user_2'), DM, 'over REST');
    await p1a.next(isNotification(viaRest.id));
    await a.waitFor('chat', (f) => f.id === viaRest.id);

    await sleep(300);
    assert.deepEqual(p3.pending((f) => f.type === 'message_notification'), [], 'a bystander gets no notification');
    // Group-room chat does not notify.
    const g = await joinRoom(server, 'general', s('user_1'));
    const gm = await g.chat('group chat');
    await sleep(300);
    for (const p of [p1a, p2a, p3]) assert.deepEqual(p.pending(isNotification(gm.id)), []);
    for (const c of [p1a, p1b, p2a, p2b, p3, a, g]) await c.close();
  });

  it('works for a guest and a seeded user (dm_guest_<name>__user_1)', async () => {
    const guest = await login(server, 'Dm_Guest');
    assert.equal(guest.user.id, 'guest_dm_guest');
    const room = 'dm_guest_dm_guest__user_1';
    const g = await joinRoom(server, room, guest);
    const u = await joinRoom(server, room, s('user_1'));
    const m = await g.chat('hello from a guest');
    checkMessage(m, { senderId: 'guest_dm_guest', roomId: room });
    await u.waitFor('chat', (f) => f.id === m.id);
    const denied = await expectUpgradeRefused(server, roomPath(room), { sessionId: s('user_2') });
    assert.equal(denied.status, 403);
    await g.close(); await u.close();
  });
});
