// Issue 24: no frame or request from a client can stop the server. Every field that the server echoes or quotes
// back (frame types, winkIds, ids, display names, personal messages, since=, room ids in paths, login names) is
// sent with multi-byte text whose code points straddle the server's quoting limits at every byte offset; each
// gets a clear error frame or envelope whose text is valid UTF-8 (nothing cut inside a character, no U+FFFD where
// the client sent good text), the process stays up, and a well-behaved pair of clients on the same server keeps
// chatting. Before the fix the first case below aborted the process (a byte cut at 32 made dump() throw).
import assert from 'node:assert/strict';
import {
  after, api, before, describe, drainUntilClosed, encodeClientFrame, expectError, it, joinPresence, joinRoom, login,
  rawHttp, rawUpgrade, roomPath, startServer,
} from './lib/harness.mjs';

const EMOJI = '😀'; // four bytes in UTF-8
const REPLACEMENT = '\uFFFD';
// The same run of emoji behind 0-3 ASCII characters: a byte cut at any fixed length lands on each of the four
// bytes of an emoji for one of these.
const shifted = (count) => [0, 1, 2, 3].map((k) => 'x'.repeat(k) + EMOJI.repeat(count));

// The error frame for `id`; its text must be whole characters of what the client sent.
async function expectErrorFrame(client, id, code = 'INVALID_PAYLOAD') {
  const e = await client.waitError(id);
  assert.equal(e.code, code, JSON.stringify(e));
  assert.ok(typeof e.content === 'string' && e.content.length > 10, JSON.stringify(e));
  assert.ok(!e.content.includes(REPLACEMENT), `the error quotes a broken character: ${e.content}`);
  return e;
}

async function metricValue(server, name, labels) {
  const res = await api(server, 'GET', '/metrics');
  assert.equal(res.status, 200);
  const line = res.text.split('\n').find((l) => l.startsWith(`${name}{${labels}}`));
  assert.ok(line, `no ${name}{${labels}} in /metrics`);
  return Number(line.split(' ').pop());
}

describe('bad input never stops the server', () => {
  let server;
  let sender;
  let reader;
  // The well-behaved pair: after each group of bad input, a chat still goes from one to the other.
  const stillChatting = async (what) => {
    assert.equal(server.proc.exitCode, null, `the server exited after ${what}`);
    const m = await sender.chat(`still here after ${what}`);
    await reader.waitFor('chat', (f) => f.id === m.id);
  };

  before(async () => {
    server = await startServer({ config: { 'chat.rate_limit_messages': 100000, 'chat.min_chat_interval_ms': 0 } });
    sender = await joinRoom(server, 'general', await login(server, 'user_1'), { label: 'sender' });
    reader = await joinRoom(server, 'general', await login(server, 'user_2'), { label: 'reader' });
  });
  after(async () => { await server?.stop(); });

  it('the reported frame on a presence socket: an error that quotes whole emoji, and the server goes on', async () => {
    const p = await joinPresence(server, await login(server, 'user_3'));
    await p.sendRaw(`{"type":"x${EMOJI.repeat(10)}","id":"report-1"}`);
    const e = await expectErrorFrame(p, 'report-1');
    assert.match(e.content, new RegExp(`"x${EMOJI}{10}"`, 'u'), 'short values are quoted whole');
    for (const [k, type] of shifted(40).entries()) {
      await p.send({ type, id: `type-${k}` });
      const err = await expectErrorFrame(p, `type-${k}`);
      assert.ok(err.content.includes('…'), 'a long value is cut, and says so');
    }
    assert.ok(p.isOpen, 'the presence socket itself stays open');
    await p.close();
    await stillChatting('bad presence frames');
  });

  it('frame types and winkIds on a room socket, at every byte alignment', async () => {
    const s = await joinRoom(server, 'general', await login(server, 'user_4'));
    await s.sendRaw(`{"type":"wink","winkId":"x${EMOJI.repeat(18)}","id":"report-2"}`);
    await expectErrorFrame(s, 'report-2');
    for (const [k, v] of shifted(70).entries()) {
      await s.send({ type: v, id: `t-${k}` });
      await expectErrorFrame(s, `t-${k}`);
      await s.send({ type: 'wink', winkId: v, id: `w-${k}` });
      await expectErrorFrame(s, `w-${k}`);
    }
    await s.close();
    await stillChatting('bad frame types and winks');
  });

  it('ids, display names and personal messages at and past their limits', async () => {
    const s = await joinRoom(server, 'general', await login(server, 'user_5'));
    const p = await joinPresence(server, await login(server, 'user_5'));
    // An id is echoed as ackId whatever it holds; multi-byte and long ids come back intact.
    const longId = EMOJI.repeat(300);
    await s.send({ type: 'nonsense', id: longId });
    assert.equal((await expectErrorFrame(s, longId)).ackId, longId);
    await s.send({ type: 'ack', ackId: EMOJI.repeat(100), status: 'read', id: 'ack-1' });
    await s.sync(); // an ack of an unknown message is ignored; the socket keeps answering
    await s.send({ type: 'ack', ackId: 'm', status: EMOJI.repeat(33), id: 'ack-2' });
    await expectErrorFrame(s, 'ack-2');
    for (const [k, name] of shifted(60).entries()) {
      await s.send({ type: 'presence', displayName: name, id: `dn-${k}` });
      await expectErrorFrame(s, `dn-${k}`);
      await p.send({ type: 'presence_update', status: 'online', displayName: name, id: `pdn-${k}` });
      await expectErrorFrame(p, `pdn-${k}`);
      await p.send({ type: 'presence_update', status: 'online', personalMessage: name.repeat(4), id: `pm-${k}` });
      await expectErrorFrame(p, `pm-${k}`);
      await p.send({ type: 'presence_update', status: EMOJI.repeat(k + 1), id: `st-${k}` });
      await expectErrorFrame(p, `st-${k}`);
    }
    // At the limit is fine: a 50-character display name of emoji and a 128-character personal message.
    await p.send({ type: 'presence_update', status: 'busy', displayName: EMOJI.repeat(50),
                   personalMessage: EMOJI.repeat(128), id: 'ok-1' });
    await p.expectNone((f) => f.type === 'error' && f.ackId === 'ok-1', 300, 'an error for a valid update');
    const chat = await s.chat(EMOJI.repeat(2048)); // the content limit, in four-byte characters
    assert.equal(chat.content, EMOJI.repeat(2048));
    await s.close(); await p.close();
    await stillChatting('bad ids, names and personal messages');
  });

  it('text frames that are not UTF-8 close that socket with 1007; the server goes on', async () => {
    const session = await login(server, 'user_6');
    for (const bytes of [[0x7b, 0xff, 0x7d], [0x7b, 0x22, 0xf0, 0x9f, 0x98, 0x22, 0x7d], [0xc0, 0xaf]]) {
      const raw = await rawUpgrade(server, `${roomPath('general')}?sessionId=${session.sessionId}`);
      raw.socket.write(encodeClientFrame(0x1, Buffer.from(bytes)));
      const end = await drainUntilClosed(raw);
      assert.equal(end.closeCode, 1007, `bytes ${bytes.map((b) => b.toString(16)).join(' ')}`);
    }
    await stillChatting('invalid UTF-8 frames');
  });

  it('REST: room ids, since=, before= and login names cut inside a character get an envelope', async () => {
    const session = await login(server, 'user_7');
    const token = session.sessionId;
    // Percent-encoded cuts of an emoji (F0 9F 98 80) at every byte, in paths and in query strings.
    const cuts = ['%F0', '%F0%9F', '%F0%9F%98', '%9F%98%80', '%FF', `${'%F0%9F%98%80'.repeat(40)}%F0%9F`];
    for (const cut of cuts) {
      expectError(await api(server, 'GET', `/api/rooms/${cut}/messages`, { token }), 400, 'VALIDATION_FAILED');
      expectError(await api(server, 'POST', `/api/rooms/${cut}/messages`, { token, body: { content: 'x' } }), 400,
                  'VALIDATION_FAILED');
      expectError(await api(server, 'GET', `/api/rooms/general/messages?before=${cut}`, { token }), 400,
                  'VALIDATION_FAILED');
      expectError(await api(server, 'GET', `/api/${cut}`, { token }), 404, 'NOT_FOUND');
      // A since= that names no message is an ordinary join; the socket works and closes cleanly.
      const raw = await rawUpgrade(server, `${roomPath('general')}?sessionId=${token}&since=${cut}`);
      raw.socket.write(encodeClientFrame(0x8, Buffer.from([0x03, 0xe8])));
      const end = await drainUntilClosed(raw);
      assert.equal(end.closeCode, 1000, `since=${cut}`);
    }
    const resumed = await joinRoom(server, 'general', session, { since: `${EMOJI.repeat(20)}x` });
    assert.equal(resumed.all.find((f) => f.type === 'history')?.resumed, false, 'an unknown anchor: no resume');
    await resumed.close();
    for (const [k, v] of shifted(70).entries()) {
      const unknown = expectError(await api(server, 'POST', '/api/auth/login', { body: { userId: v } }), 404, 'NOT_FOUND');
      assert.ok(!unknown.message.includes(REPLACEMENT), unknown.message);
      assert.ok(unknown.message.includes('…'), `a long id is cut, and says so (alignment ${k})`);
      expectError(await api(server, 'POST', '/api/auth/login', { body: { username: v } }), 400, 'VALIDATION_FAILED');
    }
    // Header values we read, with bytes that are not UTF-8.
    const res = await rawHttp(server, Buffer.concat([
      Buffer.from('GET /api/ws/room/general HTTP/1.1\r\nHost: 127.0.0.1\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n' +
                  'Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\nOrigin: http://x'),
      Buffer.from([0xf0, 0x9f]), Buffer.from(`\r\nAuthorization: Bearer \u00ff\r\nX-Forwarded-For: 1.2.3.4\r\n\r\n`, 'latin1'),
    ]));
    assert.ok(res.status === 403 || res.status === 401, `status ${res.status}`);
    assert.ok(res.json && res.json.success === false, res.text);
    await stillChatting('bad REST input');
  });

  it('no exception reached a handler boundary: the inputs above were refused by validation, not by luck', async () => {
    for (const site of ['websocket', 'http', 'actor', 'io_loop'])
      assert.equal(await metricValue(server, 'switchboard_handler_exceptions_total', `site="${site}"`), 0, site);
    assert.equal((await api(server, 'GET', '/healthz')).status, 200);
  });
});
