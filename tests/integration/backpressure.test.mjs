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
// How much the slow client's path absorbs before the server's queue grows is the machine's business, not ours:
// the server's send buffer autotunes up to tcp_wmem's maximum (4 MiB on Debian 12), the client's receive buffer
// stays at tcp_rmem's default as long as nobody reads (autotuning grows it only on reads: measured with `ss -tmi`,
// rb 131072 against a tcp_rmem maximum of 32 MiB), and other kernels may differ. So the flood has no fixed length:
// it goes on until the server says it cut the client (switchboard_ws_slow_consumer_closes_total), and the test
// then checks that this happened within a budget computed from what the kernel actually held for that connection
// at that moment (/proc/net/tcp) plus the queue caps: a server that let its queue grow past the cap, or never cut,
// fails either way.
//
// The room hears of it later: the close frame queues behind the megabytes in the kernel that the client does not
// read, so the connection ends only when the close grace (3 s) runs out. The flood goes on through that time,
// however many messages that is on this machine (a fixed message count made the outcome depend on CPU speed).
//
// Readings: the cut-off is observed as the server counts it (/metrics), the way the room sees it ("<name> left
// the room." to the others, §5), then confirmed on the wire: once the slow socket reads again, it gets no more
// than the kernel held at the cut plus the queue cap, and its TCP connection ends (any close frame is answered).
import assert from 'node:assert/strict';
import fs from 'node:fs';
import {
  after, api, before, describe, displayNameOf, drainUntilClosed, it, joinRoom, login, rawUpgrade, roomPath, rssMiB, sleep,
  startServer,
} from './lib/harness.mjs';

const MAX_RSS_MIB = Number(process.env.SWITCHBOARD_TEST_MAX_RSS_MB || 300);
const MAX_QUEUED_MESSAGES = 50;
const MAX_QUEUED_BYTES = 65536;
const WINDOW = 3;           // messages in flight to the healthy readers
const POLL_EVERY = 10;      // messages between two looks at /metrics while waiting for the cut
const FLOOD_BUDGET_MS = 60_000; // a guard against a server that never cuts, not a speed requirement
const AFTER_CUT = 30;       // messages sent after the room hears of the cut-off, to show the room carries on

/** [min, default, max] of /proc/sys/net/ipv4/tcp_{rmem,wmem}, for the log. */
const tcpMem = (name) => fs.readFileSync(`/proc/sys/net/ipv4/${name}`, 'utf8').trim().split(/\s+/).map(Number);

/** tx_queue and rx_queue (bytes) of the IPv4 TCP socket from `localPort` to `remotePort` (Linux /proc/net/tcp). */
function tcpQueues(localPort, remotePort) {
  for (const line of fs.readFileSync('/proc/net/tcp', 'utf8').split('\n').slice(1)) {
    const f = line.trim().split(/\s+/);
    if (f.length < 5) continue;
    const port = (addr) => parseInt(addr.split(':')[1], 16);
    if (port(f[1]) !== localPort || port(f[2]) !== remotePort) continue;
    const [tx, rx] = f[4].split(':').map((h) => parseInt(h, 16));
    return { tx, rx };
  }
  throw new Error(`no socket ${localPort} -> ${remotePort} in /proc/net/tcp`);
}

async function slowConsumerCloses(server) {
  const res = await api(server, 'GET', '/metrics');
  assert.equal(res.status, 200);
  const m = /^switchboard_ws_slow_consumer_closes_total (\d+)/m.exec(res.text);
  assert.ok(m, 'switchboard_ws_slow_consumer_closes_total in /metrics');
  return Number(m[1]);
}

describe('slow consumer', () => {
  let server;
  before(async () => {
    server = await startServer({
      config: {
        'ws.max_queued_messages': MAX_QUEUED_MESSAGES,
        'ws.max_queued_bytes': MAX_QUEUED_BYTES,
        'chat.rate_limit_messages': 100000,
        'chat.min_chat_interval_ms': 0,
      },
    });
  });
  after(async () => { await server?.stop(); });

  it('cuts off a client that never reads while a normal reader gets every message in order', { timeout: 120_000 }, async () => {
    const senderS = await login(server, 'user_1');
    const readerS = await login(server, 'user_2');
    const slowS = await login(server, 'user_3');
    const reader = await joinRoom(server, 'general', readerS, { label: 'reader' });
    const sender = await joinRoom(server, 'general', senderS, { label: 'sender' });

    const slow = await rawUpgrade(server, `${roomPath('general')}?sessionId=${slowS.sessionId}`);
    // From here on nobody reads `slow.socket` until the end of the test.
    await reader.next((f) => f.type === 'system' && f.content === `${displayNameOf('user_3')} joined the room.`);
    assert.equal(await slowConsumerCloses(server), 0);

    const payload = '😀'.repeat(2000);
    const payloadBytes = Buffer.byteLength(payload);
    const received = [];        // ids, in arrival order, at the reader
    let senderEchoes = 0;
    const baselineRss = rssMiB(server.pid);
    let maxRss = baselineRss;
    const t0 = Date.now();
    const cutLine = (f) => f.type === 'system' && f.content === `${displayNameOf('user_3')} left the room.`;

    let i = 0;
    const sendNext = async () => {
      assert.ok(Date.now() - t0 < FLOOD_BUDGET_MS, `still flooding after ${FLOOD_BUDGET_MS} ms (${i} messages); ` +
                                                   `decided at ${decidedAt}, room told at ${toldAt}`);
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
      if (i % 100 === 0) {
        maxRss = Math.max(maxRss, rssMiB(server.pid));
        assert.ok(maxRss < MAX_RSS_MIB, `server RSS ${maxRss.toFixed(1)} MiB exceeds ${MAX_RSS_MIB} MiB`);
      }
      i++;
    };

    // 1. Until the server cuts the slow client off.
    let decidedAt = -1;
    let toldAt = -1;
    let held = null;
    while (decidedAt < 0) {
      await sendNext();
      if (i % POLL_EVERY === 0 && await slowConsumerCloses(server) > 0) {
        decidedAt = i;
        // The slow connection is frozen now: the server writes nothing more to it (the write in flight stays
        // stuck, everything behind it was dropped) and the client reads nothing. What it holds on its way:
        const serverSide = tcpQueues(server.port, slow.socket.localPort);
        const clientSide = tcpQueues(slow.socket.localPort, server.port);
        held = { serverTx: serverSide.tx, clientRx: clientSide.rx, node: slow.socket.readableLength + slow.head.length };
        held.total = held.serverTx + held.clientRx + held.node;
      }
    }
    // Messages the server can have accepted for the slow client before cutting it: what the kernel (and Node, which
    // read up to its high-water mark before pausing) held, what the queue cap allows, the inbox in front of the queue
    // (at most max_queued_messages), plus the messages sent while we were not looking (POLL_EVERY, WINDOW in flight).
    const budget = Math.ceil((held.total + MAX_QUEUED_BYTES) / payloadBytes) + MAX_QUEUED_MESSAGES + POLL_EVERY + WINDOW;
    assert.ok(held.serverTx > 0, `the server's writes to the slow client stalled in the kernel (${JSON.stringify(held)})`);
    assert.ok(decidedAt <= budget,
              `the slow client was cut after ${decidedAt} messages of ${payloadBytes} bytes; the kernel held ` +
              `${JSON.stringify(held)}, so at most ${budget} could be accepted within the queue caps`);

    // 2. Until the room hears of it (the connection ends after the close grace), then AFTER_CUT more.
    while (toldAt < 0 || i < toldAt + AFTER_CUT) {
      await sendNext();
      if (toldAt < 0 && reader.pending(cutLine).length) toldAt = i;
    }
    const toldMs = Date.now() - t0;
    const sent = i;
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
    assert.equal(await slowConsumerCloses(server), 1, 'only the slow client was cut off');

    // The server is healthy and its memory bounded.
    assert.equal((await api(server, 'GET', '/healthz')).status, 200);
    maxRss = Math.max(maxRss, rssMiB(server.pid));
    assert.ok(maxRss < MAX_RSS_MIB, `server RSS peaked at ${maxRss.toFixed(1)} MiB (baseline ${baselineRss.toFixed(1)})`);

    // On the wire: once the slow client reads again, its connection ends.
    const end = await drainUntilClosed(slow, { timeoutMs: 20_000 });
    // It gets what the kernel held at the cut and at most the write that was in flight then (within the byte cap,
    // plus frame headers and a close frame); nothing queued after the cut.
    const wireBudget = held.total + MAX_QUEUED_BYTES + 14 * MAX_QUEUED_MESSAGES + 127;
    assert.ok(end.bytes <= wireBudget, `the slow client read ${end.bytes} bytes after the cut; at most ${wireBudget} expected`);
    assert.ok(end.textFrames < decidedAt, `the slow client read ${end.textFrames} text frames of ${decidedAt} messages`);

    // And chatting goes on.
    const m = await sender.chat('after the cut-off');
    await reader.waitFor('chat', (f) => f.id === m.id);
    console.log(`# slow consumer cut after ${decidedAt} messages (budget ${budget}; kernel held ${JSON.stringify(held)}; ` +
                `tcp_wmem ${tcpMem('tcp_wmem').join(' ')}, tcp_rmem ${tcpMem('tcp_rmem').join(' ')}); room told after ` +
                `${toldAt} messages, ${(toldMs / 1000).toFixed(1)} s; sent ${sent}; slow socket read ${end.bytes} bytes, ` +
                `${end.textFrames} frames, close code ${end.closeCode}; RSS ${baselineRss.toFixed(1)} -> max ` +
                `${maxRss.toFixed(1)} MiB; ${senderEchoes} echoes`);
    await reader.close(); await sender.close();
    await sleep(100);
  });
});
