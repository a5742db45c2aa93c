// Issue 2 §9 (connection hygiene): a client that stops reading is cut off once its write queue passes the cap
// (ws.max_queued_messages / ws.max_queued_bytes), without growing the server's memory, while everyone else in the
// room keeps receiving every message in order.
//
// How: the slow client does the WebSocket handshake by hand over a raw TCP socket and then never reads, so the
// kernel buffers fill and the server's queue for it grows. A sender floods the room with ~8 KB messages (2000
// four-byte emoji) while a normal reader keeps up. The flood is windowed on the healthy readers (at most a few
// messages in flight to them) so that *they* never come near the 64 KiB queue cap themselves; the slow client
// gets everything and falls behind.
//
// Readings: the cut-off is observed the way the room sees it ("<name> left the room." to the others, §5), then
// confirmed on the wire: once the slow socket reads again, its TCP connection ends (any close frame is answered).
import assert from 'node:assert/strict';
import {
  after, api, before, describe, displayNameOf, drainUntilClosed, it, joinRoom, login, rawUpgrade, roomPath, rssMiB, sleep,
  startServer,
} from './lib/harness.mjs';

const MAX_RSS_MIB = Number(process.env.SWITCHBOARD_TEST_MAX_RSS_MB || 300);
const WINDOW = 3;           // messages in flight to the healthy readers
const MAX_MESSAGES = 5000;  // ~40 MB through the slow client's path, far beyond any kernel buffering
const FLOOD_BUDGET_MS = 35_000;
const AFTER_CUT = 30;       // messages sent after the cut-off, to show the room carries on

describe('slow consumer', () => {
  let server;
  before(async () => {
    server = await startServer({
      config: {
        'ws.max_queued_messages': 50,
        'ws.max_queued_bytes': 65536,
        'chat.rate_limit_messages': 100000,
        'chat.min_chat_interval_ms': 0,
      },
    });
  });
  after(async () => { await server?.stop(); });

  it('cuts off a client that never reads while a normal reader gets every message in order', { timeout: 90_000 }, async () => {
    const senderS = await login(server, 'user_1');
    const readerS = await login(server, 'user_2');
    const slowS = await login(server, 'user_3');
    const reader = await joinRoom(server, 'general', readerS, { label: 'reader' });
    const sender = await joinRoom(server, 'general', senderS, { label: 'sender' });

    const slow = await rawUpgrade(server, `${roomPath('general')}?sessionId=${slowS.sessionId}`);
    // From here on nobody reads `slow.socket` until the end of the test.
    await reader.next((f) => f.type === 'system' && f.content === `${displayNameOf('user_3')} joined the room.`);

    const payload = '😀'.repeat(2000);
    const received = [];        // ids, in arrival order, at the reader
    let senderEchoes = 0;
    const baselineRss = rssMiB(server.pid);
    let maxRss = baselineRss;
    let cutAt = -1;
    const t0 = Date.now();
    const cutLine = (f) => f.type === 'system' && f.content === `${displayNameOf('user_3')} left the room.`;

    let i = 0;
    for (; i < MAX_MESSAGES; i++) {
      if (cutAt >= 0 && i >= cutAt + AFTER_CUT) break;
      if (Date.now() - t0 > FLOOD_BUDGET_MS) break;
      // Window: wait until both healthy sockets have the message sent WINDOW ago.
      if (i >= WINDOW) {
        const want = `bp-${i - WINDOW}`;
        const r = await reader.next((f) => f.type === 'chat' && f.id === want, 20_000, `reader: ${want}`);
        received.push(r.id);
        assert.equal(r.content, payload, 'content arrives intact');
        await sender.next((f) => f.type === 'chat' && f.id === want, 20_000, `sender echo: ${want}`);
        senderEchoes++;
      }
      await sender.send({ type: 'chat', id: `bp-${i}`, content: payload });
      if (cutAt < 0 && reader.pending(cutLine).length) cutAt = i;
      if (i % 100 === 0) {
        maxRss = Math.max(maxRss, rssMiB(server.pid));
        assert.ok(maxRss < MAX_RSS_MIB, `server RSS ${maxRss.toFixed(1)} MiB exceeds ${MAX_RSS_MIB} MiB`);
      }
    }
    const sent = i;
    assert.ok(cutAt >= 0, `the non-reading client was not cut off after ${sent} messages of ~8 KB ` +
                          `(${((Date.now() - t0) / 1000).toFixed(1)} s)`);
    // The reader gets the rest, in order, with nothing missing.
    for (let k = received.length; k < sent; k++) {
      const r = await reader.next((f) => f.type === 'chat' && f.id?.startsWith('bp-'), 20_000, `reader: bp-${k}`);
      received.push(r.id);
    }
    assert.deepEqual(received, Array.from({ length: sent }, (_, k) => `bp-${k}`), 'every message, in order');
    assert.equal(reader.all.filter((f) => f.type === 'chat').length, sent, 'no duplicates');
    assert.ok(reader.isOpen && sender.isOpen, 'healthy clients stay connected');
    assert.ok(!reader.all.some((f) => f.type === 'error') && !sender.all.some((f) => f.type === 'error'));
    const p = await reader.waitFor('participants', (f) => !f.participants.some((x) => x.id === 'user_3'));
    assert.ok(p.participants.some((x) => x.id === 'user_1'));

    // The server is healthy and its memory bounded.
    assert.equal((await api(server, 'GET', '/healthz')).status, 200);
    maxRss = Math.max(maxRss, rssMiB(server.pid));
    assert.ok(maxRss < MAX_RSS_MIB, `server RSS peaked at ${maxRss.toFixed(1)} MiB (baseline ${baselineRss.toFixed(1)})`);

    // On the wire: once the slow client reads again, its connection ends.
    const end = await drainUntilClosed(slow, { timeoutMs: 20_000 });
    // It got at most its three connect frames plus the messages sent before the cut, never the whole flood.
    assert.ok(end.textFrames < sent, `the slow client read ${end.textFrames} text frames of ${sent} messages`);

    // And chatting goes on.
    const m = await sender.chat('after the cut-off');
    await reader.waitFor('chat', (f) => f.id === m.id);
    console.log(`# slow consumer cut after ${cutAt} messages; sent ${sent}; slow socket read ${end.bytes} bytes; ` +
                `${end.textFrames} frames, close code ${end.closeCode}; RSS ${baselineRss.toFixed(1)} -> max ${maxRss.toFixed(1)} MiB; ` +
                `${senderEchoes} echoes`);
    await reader.close(); await sender.close();
    await sleep(100);
  });
});
