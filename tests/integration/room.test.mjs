// PROTOCOL.md §5 in group rooms: connect sequence, chat, ids and dedupe, history and since= resume, typing,
// nudge, wink, rate limits, error frames, frame size limits, ack, presence frames, ping, leaving.
//
// Readings of PROTOCOL.md where it leaves room:
// - Extra group rooms (r1, r2, ...) are configured through `chat.rooms` (env form "id=Name,...") so that each test
//   starts in an empty room with fresh per-room rate limits; `general` keeps its default name.
// - Join/leave lines are not stored messages, so history frames hold only chat/nudge/wink messages; the since=
//   assertions ignore any `type:"system"` entries to stay neutral on that.
// - A second socket of a user already in the room gets its own "Connected to ChatRoom" and a `participants` frame
//   (de-duplicated); whether it re-announces "joined" is not asserted.
// - "Frames over 64 KiB" means a message of more than 65536 bytes: exactly 65536 bytes is read (and then rejected
//   as TOO_LARGE content), 65537 bytes closes with 1009.
// - A wrongly typed or over-long `presence.displayName` (over 50 code points) is INVALID_PAYLOAD or TOO_LARGE.
// - After a `chat` cancels the typing timer, the server sends no later automatic `isTyping:false`; an immediate
//   false right with the chat is tolerated.
// - Error frames for frames without an `id` carry no `ackId`.
import assert from 'node:assert/strict';
import {
  after, api, before, checkMessage, codePoints, connect, describe, displayNameOf, expectError, expectOk, it, joinRoom,
  login, restSend, roomPath, sleep, startServer, waitUntil,
} from './lib/harness.mjs';

const EXTRA_ROOMS = Array.from({ length: 12 }, (_, i) => `r${i + 1}=Room ${i + 1}`);
const ROOMS = ['general=General Chat', 'music=Music 🎵', ...EXTRA_ROOMS].join(',');

const isSystem = (content) => (f) => f.type === 'system' && f.content === content;
const joinedLine = (userId) => isSystem(`${displayNameOf(userId)} joined the room.`);
const leftLine = (userId) => isSystem(`${displayNameOf(userId)} left the room.`);

function checkParticipants(frame, roomId, expectedIds) {
  assert.equal(frame.type, 'participants');
  assert.equal(frame.roomId, roomId);
  const ids = frame.participants.map((p) => p.id);
  assert.equal(new Set(ids).size, ids.length, `participants are de-duplicated: ${ids}`);
  assert.deepEqual([...ids].sort(), [...expectedIds].sort());
  for (const p of frame.participants) {
    assert.equal(typeof p.displayName, 'string');
    assert.ok(['online', 'busy', 'away', 'offline'].includes(p.status), `status ${p.status}`);
  }
}

describe('chat room (relaxed rate limits)', () => {
  let server;
  const sessions = {};
  const s = (id) => sessions[id];
  before(async () => {
    server = await startServer({
      config: { 'chat.rooms': ROOMS, 'chat.rate_limit_messages': 100000, 'chat.min_chat_interval_ms': 0 },
    });
    for (let i = 1; i <= 10; i++) sessions[`user_${i}`] = await login(server, `user_${i}`);
  });
  after(async () => { await server?.stop(); });

  it('connect sequence: system, no history on an empty room, joined line to all, de-duplicated participants', async () => {
    const a1 = await connect(server, roomPath('general'), { sessionId: s('user_1'), label: 'a1' });
    const p1 = await a1.waitFor('participants');
    checkParticipants(p1, 'general', ['user_1']);
    // Order on the joining socket: system, (history: none here), joined, participants.
    const types = a1.all.map((f) => f.type);
    assert.deepEqual(a1.all[0], { ...a1.all[0], type: 'system', content: 'Connected to ChatRoom', roomId: 'general' });
    assert.equal(typeof a1.all[0].timestamp, 'number');
    assert.ok(!types.includes('history'), `no history frame on an empty room, got ${types}`);
    const joinedAt = a1.all.findIndex(joinedLine('user_1'));
    assert.ok(joinedAt > 0, 'the joined line reaches the joining socket');
    assert.equal(a1.all[joinedAt].roomId, 'general');
    assert.equal(typeof a1.all[joinedAt].timestamp, 'number');
    assert.ok(joinedAt < a1.all.indexOf(p1), 'joined line before participants');

    const b1 = await connect(server, roomPath('general'), { sessionId: s('user_2'), label: 'b1' });
    checkParticipants(await b1.waitFor('participants', (f) => f.participants.length === 2), 'general', ['user_1', 'user_2']);
    assert.equal(b1.all[0].content, 'Connected to ChatRoom');
    assert.ok(b1.all.some(joinedLine('user_2')));
    await a1.next(joinedLine('user_2'));
    checkParticipants(await a1.waitFor('participants'), 'general', ['user_1', 'user_2']);

    // A second tab of user_1: still one entry per user.
    const a2 = await connect(server, roomPath('general'), { sessionId: s('user_1'), label: 'a2' });
    assert.equal((await a2.next()).content, 'Connected to ChatRoom');
    checkParticipants(await a2.waitFor('participants'), 'general', ['user_1', 'user_2']);
    await Promise.all([a1.close(), a2.close(), b1.close()]);
  });

  it('chat both ways, echoed to the sender, with server-side fields', async () => {
    const a = await joinRoom(server, 'r1', s('user_1'));
    const b = await joinRoom(server, 'r1', s('user_2'));
    const before = Date.now();
    const m1 = await a.chat('hi from Alex');
    checkMessage(m1, { roomId: 'r1', senderId: 'user_1', content: 'hi from Alex', isNudge: false, isWink: false, type: 'chat' });
    if (m1.displayName !== undefined) assert.equal(m1.displayName, 'Alex');
    assert.ok(m1.timestamp >= before - 5_000 && m1.timestamp <= Date.now() + 5_000);
    assert.deepEqual(await b.waitFor('chat', (f) => f.id === m1.id), m1);
    const m2 = await b.chat('hey Alex 👋 ünïcödé');
    checkMessage(m2, { roomId: 'r1', senderId: 'user_2', content: 'hey Alex 👋 ünïcödé', type: 'chat' });
    assert.deepEqual(await a.waitFor('chat', (f) => f.id === m2.id), m2);
    await Promise.all([a.close(), b.close()]);
  });

  it('keeps a valid unused client id, replaces invalid or taken ones, drops a repeat from the same sender', async () => {
    const a = await joinRoom(server, 'r2', s('user_1'));
    const b = await joinRoom(server, 'r2', s('user_2'));
    const kept = await a.chat('kept id', { id: 'Client_id-1' });
    assert.equal(kept.id, 'Client_id-1');
    await b.waitFor('chat', (f) => f.id === 'Client_id-1');

    for (const [bad, label] of [['has space', 'space'], ['x'.repeat(65), '65 chars'], ['ünï', 'non-ASCII'], ['', 'empty']]) {
      await a.send({ type: 'chat', content: `bad id ${label}`, id: bad });
      const m = await a.waitFor('chat', (f) => f.content === `bad id ${label}`);
      assert.notEqual(m.id, bad, `id "${label}" must be replaced`);
      assert.match(m.id, /^[A-Za-z0-9_-]{1,64}$/);
    }
    // The same id from another sender is taken in this room: replaced, not dropped.
    await b.send({ type: 'chat', content: 'same id other sender', id: 'Client_id-1' });
    const other = await a.waitFor('chat', (f) => f.content === 'same id other sender');
    assert.notEqual(other.id, 'Client_id-1');
    assert.equal(other.senderId, 'user_2');

    // A repeat from the same sender is dropped silently: no echo, no error, nothing for the others.
    await a.send({ type: 'chat', content: 'repeat', id: 'Client_id-1' });
    await a.send({ type: 'chat', content: 'dup once', id: 'dup-1' });
    await a.send({ type: 'chat', content: 'dup twice', id: 'dup-1' });
    const sentinel = await a.chat('sentinel after dupes');
    await b.waitFor('chat', (f) => f.id === sentinel.id);
    for (const c of [a, b]) {
      assert.equal(c.all.filter((f) => f.id === 'dup-1').length, 1, 'one dup-1 delivered');
      assert.equal(c.all.filter((f) => f.content === 'repeat' || f.content === 'dup twice').length, 0);
      assert.equal(c.pending((f) => f.type === 'error').length, 0, 'dedupe is silent');
    }
    assert.equal(a.all.find((f) => f.id === 'dup-1').content, 'dup once');
    const history = expectOk(await api(server, 'GET', '/api/rooms/r2/messages?limit=100', { token: s('user_1').sessionId }));
    assert.equal(history.filter((m) => m.id === 'dup-1').length, 1);
    assert.equal(history.filter((m) => m.id === 'Client_id-1').length, 1);
    await Promise.all([a.close(), b.close()]);
  });

  it('overrides senderId, roomId, timestamp, displayName and flags a client claims', async () => {
    const a = await joinRoom(server, 'r3', s('user_1'));
    const b = await joinRoom(server, 'r3', s('user_2'));
    const m = await a.chat('trust me', {
      senderId: 'user_9', roomId: 'music', timestamp: 1, displayName: 'Hacker', isNudge: true, isWink: true,
      winkId: 'kiss', status: 'read',
    });
    checkMessage(m, { senderId: 'user_1', roomId: 'r3', content: 'trust me', isNudge: false, isWink: false, type: 'chat' });
    assert.ok(Math.abs(m.timestamp - Date.now()) < 60_000, 'server timestamp');
    if (m.displayName !== undefined) assert.equal(m.displayName, 'Alex');
    assert.equal(m.winkId, undefined);
    if (m.status !== undefined) assert.equal(m.status, 'sent');
    assert.deepEqual(await b.waitFor('chat', (f) => f.id === m.id), m);
    await Promise.all([a.close(), b.close()]);
  });

  describe('history and since= resume', () => {
    const sent = [];
    before(async () => {
      for (let i = 0; i < 105; i++) sent.push(await restSend(server, s('user_7'), 'r4', `h${i}`));
    });

    it('sends the last 100 messages, oldest first, between the system line and the joined line', async () => {
      const c = await connect(server, roomPath('r4'), { sessionId: s('user_8') });
      const history = await c.waitFor('history');
      await c.next(joinedLine('user_8'));
      assert.equal(history.roomId, 'r4');
      assert.notEqual(history.resumed, true);
      assert.equal(history.messages.length, 100);
      assert.deepEqual(history.messages.map((m) => m.content), sent.slice(5).map((m) => m.content));
      assert.deepEqual(history.messages.map((m) => m.id), sent.slice(5).map((m) => m.id));
      for (const m of history.messages) checkMessage(m, { roomId: 'r4', senderId: 'user_7', type: 'chat' });
      const order = c.all.map((f) => (f.type === 'system' ? f.content : f.type));
      assert.equal(order[0], 'Connected to ChatRoom');
      assert.equal(order[1], 'history');
      assert.ok(order.indexOf('history') < order.indexOf(`${displayNameOf('user_8')} joined the room.`));
      await c.close();
    });

    async function resume(since) {
      const c = await connect(server, roomPath('r4'), { sessionId: s('user_9'), query: { since } });
      const h = await c.waitFor('history');
      assert.equal(c.all[0].content, 'Connected to ChatRoom');
      assert.equal(h.roomId, 'r4');
      await c.waitFor('participants');
      assert.equal(c.all.filter((f) => f.type === 'history').length, 1, 'since= replaces the history frame');
      await c.close();
      return { ...h, messages: h.messages.filter((m) => m.type !== 'system') };
    }

    it('since=<id> resumes with every message after that id (resumed:true)', async () => {
      const h = await resume(sent[100].id);
      assert.equal(h.resumed, true);
      assert.deepEqual(h.messages.map((m) => m.id), sent.slice(101).map((m) => m.id));
      const all = await resume(sent[0].id);
      assert.equal(all.resumed, true);
      assert.deepEqual(all.messages.map((m) => m.content), sent.slice(1).map((m) => m.content), 'more than 100 when asked to resume');
    });

    it('since=<last id> resumes with an empty list', async () => {
      const h = await resume(sent[104].id);
      assert.equal(h.resumed, true);
      assert.deepEqual(h.messages, []);
    });

    it('since=<unknown id> falls back to the last 100 with resumed:false', async () => {
      const h = await resume('never-existed-id');
      assert.equal(h.resumed, false);
      assert.deepEqual(h.messages.map((m) => m.id), sent.slice(5).map((m) => m.id));
    });
  });

  it('typing goes to the others only; the server sends isTyping:false 3 s after the last true', async () => {
    const a = await joinRoom(server, 'r5', s('user_1'));
    const b = await joinRoom(server, 'r5', s('user_2'));
    const c = await joinRoom(server, 'r5', s('user_3'));
    const fromA = (isTyping) => (f) => f.type === 'typing' && f.senderId === 'user_1' && f.isTyping === isTyping;

    const t0 = Date.now();
    await a.send({ type: 'typing', isTyping: true });
    const t = await b.next(fromA(true));
    assert.deepEqual(t, { type: 'typing', roomId: 'r5', senderId: 'user_1', displayName: 'Alex', isTyping: true });
    await c.next(fromA(true));
    // A second true 1.5 s later restarts the timer.
    await sleep(1500);
    const t1 = Date.now();
    await a.send({ type: 'typing', isTyping: true });
    const auto = await b.next(fromA(false), 15_000);
    const elapsed = Date.now() - t1;
    assert.ok(elapsed >= 2500, `automatic false came ${elapsed} ms after the last true (expected ~3000)`);
    assert.ok(Date.now() - t0 >= 4000, 'the second true restarted the timer');
    assert.equal(auto.roomId, 'r5');
    await c.next(fromA(false));
    assert.equal(a.all.filter((f) => f.type === 'typing').length, 0, 'the typist does not get its own typing frames');
    await a.close(); await b.close(); await c.close();
  });

  it('an explicit false or a chat cancels the automatic isTyping:false', async () => {
    const a = await joinRoom(server, 'r11', s('user_1'));
    const b = await joinRoom(server, 'r11', s('user_2'));
    const c = await joinRoom(server, 'r11', s('user_3'));
    const typingFrom = (id, v) => (f) => f.type === 'typing' && f.senderId === id && f.isTyping === v;
    // user_1: true then false. user_3: true then a chat.
    await a.send({ type: 'typing', isTyping: true });
    await c.send({ type: 'typing', isTyping: true });
    await b.next(typingFrom('user_1', true));
    await b.next(typingFrom('user_3', true));
    await a.send({ type: 'typing', isTyping: false });
    await b.next(typingFrom('user_1', false));
    const m = await c.chat('done typing');
    await b.waitFor('chat', (f) => f.id === m.id);
    await sleep(500);
    b.buffer.splice(0, b.buffer.length, ...b.buffer.filter((f) => !typingFrom('user_3', false)(f)));
    await b.expectNone((f) => f.type === 'typing', 4000, 'automatic typing frame after a false or a chat');
    await a.close(); await b.close(); await c.close();
  });

  it('wink: a configured winkId is broadcast as a wink Message; an unknown or missing one is INVALID_PAYLOAD', async () => {
    const { winks } = expectOk(await api(server, 'GET', '/api/config'));
    const a = await joinRoom(server, 'r6', s('user_1'));
    const b = await joinRoom(server, 'r6', s('user_2'));
    await a.send({ type: 'wink', winkId: winks[0] });
    const w = await a.waitFor('chat', (f) => f.isWink === true);
    checkMessage(w, { type: 'chat', isWink: true, isNudge: false, winkId: winks[0], content: 'sent a wink.',
                      senderId: 'user_1', roomId: 'r6' });
    assert.deepEqual(await b.waitFor('chat', (f) => f.id === w.id), w);
    await a.send({ type: 'wink', winkId: 'not_a_wink', id: 'wk1' });
    assert.equal((await a.waitError('wk1')).code, 'INVALID_PAYLOAD');
    await a.send({ type: 'wink', id: 'wk2' });
    assert.equal((await a.waitError('wk2')).code, 'INVALID_PAYLOAD');
    await a.send({ type: 'wink', winkId: 3, id: 'wk3' });
    assert.equal((await a.waitError('wk3')).code, 'INVALID_PAYLOAD');
    await sleep(200);
    assert.equal(b.pending((f) => f.isWink).length, 0, 'rejected winks are not broadcast');
    const history = expectOk(await api(server, 'GET', '/api/rooms/r6/messages', { token: s('user_1').sessionId }));
    assert.equal(history.length, 1);
    assert.equal(history[0].winkId, winks[0]);
    await a.close(); await b.close();
  });

  it('answers every invalid frame with a coded error frame and keeps the socket open', async () => {
    const a = await joinRoom(server, 'r7', s('user_4'));
    const check = async (raw, code, ackId) => {
      await a.sendRaw(raw);
      const e = await a.waitFor('error');
      assert.equal(e.code, code, `frame ${raw.slice(0, 80)} -> ${JSON.stringify(e)}`);
      assert.ok(typeof e.content === 'string' && e.content.length > 3, 'error content is a human sentence');
      assert.equal(e.ackId, ackId, `ackId for ${raw.slice(0, 80)}`);
    };
    await check('{not json', 'INVALID_PAYLOAD', undefined);
    await check('[1,2,3]', 'INVALID_PAYLOAD', undefined);
    await check('"just a string"', 'INVALID_PAYLOAD', undefined);
    await check('null', 'INVALID_PAYLOAD', undefined);
    await check(JSON.stringify({ content: 'no type', id: 't0' }), 'INVALID_PAYLOAD', 't0');
    await check(JSON.stringify({ type: 'dance', id: 'u1' }), 'INVALID_PAYLOAD', 'u1');
    await check(JSON.stringify({ type: 42, id: 'u2' }), 'INVALID_PAYLOAD', 'u2');
    await check(JSON.stringify({ type: 'chat', content: 42, id: 'w1' }), 'INVALID_PAYLOAD', 'w1');
    await check(JSON.stringify({ type: 'chat', id: 'w2' }), 'INVALID_PAYLOAD', 'w2');
    await check(JSON.stringify({ type: 'chat', content: ['a'], id: 'w3' }), 'INVALID_PAYLOAD', 'w3');
    await check(JSON.stringify({ type: 'typing', isTyping: 'yes', id: 'w4' }), 'INVALID_PAYLOAD', 'w4');
    await check(JSON.stringify({ type: 'ack', ackId: 5, status: 'read', id: 'w5' }), 'INVALID_PAYLOAD', 'w5');
    await check(JSON.stringify({ type: 'ack', ackId: 'x', status: 'seen', id: 'w6' }), 'INVALID_PAYLOAD', 'w6');
    await check(JSON.stringify({ type: 'presence', status: 'sleeping', id: 'w7' }), 'INVALID_PAYLOAD', 'w7');
    await check(JSON.stringify({ type: 'chat', content: '', id: 'e1' }), 'INVALID_PAYLOAD', 'e1');
    await check(JSON.stringify({ type: 'chat', content: '  \n\t  ', id: 'e2' }), 'INVALID_PAYLOAD', 'e2');
    await check(JSON.stringify({ type: 'chat', content: '   ' }), 'INVALID_PAYLOAD', undefined);
    checkMessage(await a.chat('still here after errors'), { senderId: 'user_4' });

    // Binary frames are not JSON text.
    await a.sendRaw(Buffer.from('{"type":"chat","content":"binary"}'), { binary: true });
    assert.equal((await a.waitFor('error')).code, 'INVALID_PAYLOAD');
    checkMessage(await a.chat('still here after binary'), { senderId: 'user_4' });

    // Content over 2048 code points is TOO_LARGE; exactly 2048 (4-byte emoji) passes untouched.
    await check(JSON.stringify({ type: 'chat', content: 'a'.repeat(2049), id: 'big1' }), 'TOO_LARGE', 'big1');
    await check(JSON.stringify({ type: 'chat', content: '😀'.repeat(2049), id: 'big2' }), 'TOO_LARGE', 'big2');
    const max = await a.chat('😀'.repeat(2048));
    assert.equal(codePoints(max.content), 2048);
    assert.equal(max.content, '😀'.repeat(2048));
    const maxAscii = await a.chat('b'.repeat(2048));
    assert.equal(maxAscii.content.length, 2048);

    // Exactly 64 KiB is read (and is too much content); one byte more closes the socket with 1009.
    const frameOf = (bytes, id) => {
      const shell = JSON.stringify({ type: 'chat', id, content: '' });
      return JSON.stringify({ type: 'chat', id, content: 'c'.repeat(bytes - Buffer.byteLength(shell)) });
    };
    const edge = frameOf(65536, 'edge');
    assert.equal(Buffer.byteLength(edge), 65536);
    await check(edge, 'TOO_LARGE', 'edge');
    checkMessage(await a.chat('still here after 64 KiB'), { senderId: 'user_4' });
    const over = frameOf(65537, 'over');
    assert.equal(Buffer.byteLength(over), 65537);
    await a.sendRaw(over);
    const closed = await Promise.race([a.closed, sleep(15_000).then(() => null)]);
    assert.ok(closed, 'socket closed after a frame over 64 KiB');
    assert.equal(closed.code, 1009);
    // The server is fine and the room still works.
    const again = await joinRoom(server, 'r7', s('user_4'));
    checkMessage(await again.chat('back again'), { senderId: 'user_4' });
    await again.close();
  });

  it('ack raises delivered -> read and broadcasts delivery_status; lowering, own and unknown acks are ignored', async () => {
    const a = await joinRoom(server, 'r8', s('user_1'));
    const b = await joinRoom(server, 'r8', s('user_2'));
    const m = await a.chat('please ack');
    await b.waitFor('chat', (f) => f.id === m.id);

    await b.send({ type: 'ack', ackId: m.id, status: 'delivered' });
    const d = await a.waitFor('delivery_status');
    assert.equal(d.roomId, 'r8');
    assert.equal(d.ackId, m.id);
    assert.equal(d.status, 'delivered');
    assert.equal(d.senderId, 'user_2');
    assert.equal(typeof d.timestamp, 'number');
    await b.send({ type: 'ack', ackId: m.id, status: 'read' });
    const r = await a.waitFor('delivery_status', (f) => f.status === 'read');
    assert.equal(r.ackId, m.id);
    assert.equal(r.senderId, 'user_2');

    // Ignored silently: lowering, repeating, acking one's own message, acking an unknown id.
    await b.send({ type: 'ack', ackId: m.id, status: 'delivered' });
    await b.send({ type: 'ack', ackId: m.id, status: 'read' });
    await b.send({ type: 'ack', ackId: 'no-such-message', status: 'read' });
    const own = await b.chat('my own');
    await b.send({ type: 'ack', ackId: own.id, status: 'read' });
    await a.send({ type: 'ack', ackId: m.id, status: 'read' });
    // Sentinels: each socket's later chat is handled after its acks.
    const sa = await a.chat('sentinel a');
    const sb = await b.chat('sentinel b');
    await a.waitFor('chat', (f) => f.id === sb.id);
    await b.waitFor('chat', (f) => f.id === sa.id);
    await sleep(300);
    for (const c of [a, b]) {
      const extra = c.pending((f) => f.type === 'delivery_status' && !(f.ackId === m.id && c === b));
      assert.deepEqual(extra, [], 'no delivery_status for ignored acks');
      assert.deepEqual(c.pending((f) => f.type === 'error'), [], 'ignored acks get no error frame');
    }
    // b got the two legitimate broadcasts too (the room includes the acker).
    assert.equal(b.all.filter((f) => f.type === 'delivery_status').length, 2);
    await waitUntil(async () => {
      const h = expectOk(await api(server, 'GET', '/api/rooms/r8/messages', { token: s('user_1').sessionId }));
      return h.find((x) => x.id === m.id)?.status === 'read';
    }, { what: 'stored status "read"' });
    await a.close(); await b.close();
  });

  it('presence frames update participants; impersonating display names are FORBIDDEN', async () => {
    const a = await joinRoom(server, 'r9', s('user_3'));
    const b = await joinRoom(server, 'r9', s('user_4'));
    await a.send({ type: 'presence', status: 'busy' });
    const p = await b.waitFor('participants', (f) => f.participants.find((x) => x.id === 'user_3')?.status === 'busy');
    checkParticipants(p, 'r9', ['user_3', 'user_4']);
    await a.send({ type: 'presence', displayName: 'Sam the Man' });
    await b.waitFor('participants', (f) => f.participants.find((x) => x.id === 'user_3')?.displayName === 'Sam the Man');

    for (const [name, id] of [['Taylor', 'f1'], ['taylor', 'f2'], ['user_4', 'f3'], ['ZeroCool', 'f4'],
                              ['clippy', 'f5'], ['Alex', 'f6']]) {
      await a.send({ type: 'presence', displayName: name, id });
      const e = await a.waitError(id);
      assert.equal(e.code, 'FORBIDDEN', `displayName ${name}`);
    }
    await a.send({ type: 'presence', displayName: 'x'.repeat(51), id: 'long' });
    assert.ok(['INVALID_PAYLOAD', 'TOO_LARGE'].includes((await a.waitError('long')).code));
    await a.send({ type: 'presence', displayName: 7, id: 'num' });
    assert.equal((await a.waitError('num')).code, 'INVALID_PAYLOAD');
    await a.send({ type: 'presence', status: 'sleeping', id: 'st' });
    assert.equal((await a.waitError('st')).code, 'INVALID_PAYLOAD');
    await sleep(200);
    assert.ok(!b.pending((f) => f.type === 'participants').some((f) => f.participants.some((x) => x.displayName === 'Taylor' && x.id === 'user_3')));
    const ok = await a.chat('still here');
    await b.waitFor('chat', (f) => f.id === ok.id);
    await a.close(); await b.close();
  });

  it('leaving: "left the room." and participants only when the last socket of a user closes', async () => {
    const a = await joinRoom(server, 'r10', s('user_5'));
    const b1 = await joinRoom(server, 'r10', s('user_6'), { label: 'b1' });
    const b2 = await joinRoom(server, 'r10', s('user_6'), { label: 'b2' });
    checkParticipants(await a.waitFor('participants', (f) => f.participants.length === 2), 'r10', ['user_5', 'user_6']);
    await b1.close();
    await sleep(300);
    const sentinel = await b2.chat('one tab left');
    await a.waitFor('chat', (f) => f.id === sentinel.id);
    assert.deepEqual(a.pending(leftLine('user_6')), [], 'no left line while another tab is open');
    await b2.close();
    const left = await a.next(leftLine('user_6'));
    assert.equal(left.roomId, 'r10');
    assert.equal(typeof left.timestamp, 'number');
    checkParticipants(await a.waitFor('participants', (f) => f.participants.length === 1), 'r10', ['user_5']);
    await a.close();
  });
});

describe('chat room (default rate limits)', () => {
  let server;
  const sessions = {};
  const s = (id) => sessions[id];
  before(async () => {
    server = await startServer({ config: { 'chat.rooms': ROOMS } });
    for (let i = 1; i <= 6; i++) sessions[`user_${i}`] = await login(server, `user_${i}`);
  });
  after(async () => { await server?.stop(); });

  it('nudge: 3 per 10 s are broadcast and stored, the 4th gets RATE_LIMITED', async () => {
    const a = await joinRoom(server, 'general', s('user_1'));
    const b = await joinRoom(server, 'general', s('user_2'));
    for (let i = 0; i < 3; i++) {
      await a.send({ type: 'nudge' });
      const n = await a.waitFor('nudge');
      checkMessage(n, { type: 'nudge', isNudge: true, isWink: false, content: 'sent a nudge.', senderId: 'user_1', roomId: 'general' });
      assert.deepEqual(await b.waitFor('nudge', (f) => f.id === n.id), n);
    }
    await a.send({ type: 'nudge' });
    const e = await a.waitFor('error');
    assert.equal(e.code, 'RATE_LIMITED');
    assert.ok(e.content.length > 3);
    await sleep(300);
    assert.equal(b.pending((f) => f.type === 'nudge').length, 0, 'the 4th nudge is not broadcast');
    const history = expectOk(await api(server, 'GET', '/api/rooms/general/messages', { token: s('user_1').sessionId }));
    assert.equal(history.filter((m) => m.type === 'nudge' && m.isNudge).length, 3);
    // Nudges are limited, chat is not blocked by them.
    const m = await a.chat('after nudges');
    await b.waitFor('chat', (f) => f.id === m.id);
    await a.close(); await b.close();
  });

  it('15 accepted content frames per 60 s (rejected ones do not count), then RATE_LIMITED for chat, wink, nudge and REST', async () => {
    const a = await joinRoom(server, 'r1', s('user_2'));
    const { winks } = expectOk(await api(server, 'GET', '/api/config'));
    let accepted = 0;
    for (let i = 0; i < 15; i++) {
      // Spaced ≥ 210 ms after the server answered the previous frame, so the 200 ms rule never applies.
      await a.chat(`limit ${i}`);
      accepted++;
      await sleep(210);
      if (i % 5 === 4) {
        await a.send({ type: 'chat', content: '   ', id: `rejected-${i}` });
        assert.equal((await a.waitError(`rejected-${i}`)).code, 'INVALID_PAYLOAD');
        await sleep(210);
      }
    }
    assert.equal(accepted, 15);
    await a.send({ type: 'chat', content: 'one too many', id: 'sixteenth' });
    const e = await a.waitError('sixteenth');
    assert.equal(e.code, 'RATE_LIMITED');
    await sleep(210);
    await a.send({ type: 'wink', winkId: winks[0], id: 'wink-over' });
    assert.equal((await a.waitError('wink-over')).code, 'RATE_LIMITED');
    await a.send({ type: 'nudge', id: 'nudge-over' });
    assert.equal((await a.waitFor('error')).code, 'RATE_LIMITED');
    const rest = await api(server, 'POST', '/api/rooms/r1/messages', { token: s('user_2').sessionId, body: { content: 'rest over' } });
    expectError(rest, 429, 'RATE_LIMITED');
    assert.ok(rest.headers['retry-after'], 'Retry-After');
    // The limit is per user per room: the same user can still talk elsewhere, and this socket is still open.
    await a.sync();
    assert.ok(a.isOpen);
    const other = await joinRoom(server, 'r5', s('user_2'));
    await other.chat('other room is fine');
    await a.close(); await other.close();
  });

  it('a chat sooner than 200 ms after the previous one gets RATE_LIMITED', async () => {
    const a = await joinRoom(server, 'r2', s('user_3'));
    // Both frames leave in one go; the server sees them well within 200 ms of each other.
    await Promise.all([a.send({ type: 'chat', content: 'first', id: 'fast-1' }),
                       a.send({ type: 'chat', content: 'second', id: 'fast-2' })]);
    await a.waitFor('chat', (f) => f.id === 'fast-1');
    const e = await a.waitError('fast-2');
    assert.equal(e.code, 'RATE_LIMITED');
    await sleep(250);
    const later = await a.chat('later', { id: 'fast-3' });
    assert.equal(later.id, 'fast-3');
    assert.equal(a.all.filter((f) => f.id === 'fast-2').length, 0, 'the rejected chat is not broadcast');
    await a.close();
  });

  it('ping is not rate limited', async () => {
    const a = await joinRoom(server, 'r3', s('user_4'));
    for (let i = 0; i < 30; i++) await a.send({ type: 'ping' });
    const m = await a.chat('after 30 pings');
    checkMessage(m, { senderId: 'user_4' });
    await sleep(200);
    assert.deepEqual(a.pending((f) => f.type === 'error'), [], 'no error frame for pings');
    await a.close();
  });
});
