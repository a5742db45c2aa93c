// Issue 8: durable history. Once a sender has seen its message echoed, or a REST send returned 2xx, the message
// survives any crash, exactly once; history, pagination and since= resume are identical across restarts;
// DELETE /api/users/me/messages really removes the text from the files; a bad disk stops start-up or fails the
// send, never echoes a message that was not stored.
//
// Readings and choices:
// - "Acknowledged" is any `chat` frame a client received (the room broadcasts only after the store committed, so
//   the echo and the copy another member gets mean the same) or a 201 from POST /api/rooms/:id/messages.
// - A message whose fate the crash left open is retried after the restart over REST with the same client id, as
//   a real client would: the answer must be 201 with that id, and the message must then be stored exactly once.
//   Messages sent without a client id cannot be retried and must simply appear at most once.
// - "Ids remain monotonic": server-made ids are `<seq>-<random>`, so along the history (ordered by seq) their
//   seq prefixes strictly increase, across every restart. History of one round must be a prefix of the next.
// - The full-disk case uses the documented test-only key history.max_page_count (portable), and, when the test
//   runs as root and may mount, also a real tiny tmpfs (skipped with a message otherwise).
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import crypto from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import {
  after, api, connect, describe, expectError, expectOk, it, joinRoom, login, restSend, roomPath, runBinary, sleep,
  SOURCE_DIR, startServer, waitUntil,
} from './lib/harness.mjs';

// Rate limits out of the way: these tests are about storage, not about limits.
const FAST = {
  'chat.rate_limit_messages': 100000,
  'chat.min_chat_interval_ms': 0,
  'security.login_per_10s': 1000,
};

const tmpDirs = [];
function freshDataDir(tag) {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), `switchboard-durable-${tag}-`));
  tmpDirs.push(dir);
  return dir;
}
after(() => {
  if (process.env.SWITCHBOARD_TEST_KEEP_TMP) return;
  for (const d of tmpDirs) fs.rmSync(d, { recursive: true, force: true });
});

const startOn = (dataDir, config = {}) =>
  startServer({ config: { ...FAST, ...config }, env: { SWITCHBOARD_DATA_DIR: dataDir } });

const rand = () => crypto.randomBytes(4).toString('hex');
// A since= resume replays at most this many messages (kMaxResumeMessages in src/chat/chat_room.cpp).
const MAX_RESUME = 5000;
const serverSeq = (id) => { const m = /^(\d+)-[A-Za-z0-9_-]+$/.exec(id); return m ? Number(m[1]) : null; };

/** Every message of a room over REST, oldest first, paging back with before= until an empty page. */
async function fullHistory(server, session, roomId, limit = 100) {
  const pages = [];
  let before;
  for (;;) {
    const q = `limit=${limit}` + (before ? `&before=${encodeURIComponent(before)}` : '');
    const page = expectOk(await api(server, 'GET', `/api/rooms/${roomId}/messages?${q}`, { token: session.sessionId }));
    if (page.length === 0) break;
    assert.ok(page.length <= limit, `a page holds at most ${limit}`);
    pages.unshift(page);
    before = page[0].id;
  }
  return pages.flat();
}

/**
 * The history frame of a fresh socket, with since= when given. A plain join of an empty room gets none: pass
 * expectFrame=false, and undefined comes back unless one arrived during the join. (In DM rooms the join's round
 * trip does not wait for the room, so the frame is waited for explicitly.)
 */
async function joinHistory(server, session, roomId, since, expectFrame = true) {
  const c = await joinRoom(server, roomId, session, { since });
  const frame = expectFrame ? await c.waitFor('history') : c.all.find((f) => f.type === 'history');
  await c.close();
  return frame;
}

// A message's identity for comparisons across restarts (status is compared where acks are part of the test).
const essence = (m) => ({ id: m.id, roomId: m.roomId, senderId: m.senderId, content: m.content, timestamp: m.timestamp,
                          type: m.type, isNudge: m.isNudge, isWink: m.isWink });

// ---------------------------------------------------------------------------------------------------------------

describe('crash: kill -9 at random moments', () => {
  it('every acknowledged message survives exactly once, ids stay monotonic, history stays stable',
     { timeout: 150_000 }, async (t) => {
    const ROUNDS = Number(process.env.SWITCHBOARD_CRASH_ROUNDS || 12);
    const WINDOW = 24;  // unechoed WebSocket chats a client lets pile up
    const dataDir = freshDataDir('crash');
    const DM = 'dm_user_1__user_3';
    const ROOMS = { general: 'user_1', [DM]: 'user_1' }; // who reads each room's history
    const sent = new Map();    // content -> {room, sender, clientId, acked, ackedId, failed}
    const previous = { general: [], [DM]: [] };
    let totals = { sent: 0, acked: 0, retried: 0, killedAfterMs: [] };

    const record = (room, sender, clientId, content) => {
      sent.set(content, { room, sender, clientId, acked: false, ackedId: null, failed: false });
      totals.sent++;
    };
    const ack = (m) => {
      const s = sent.get(m.content);
      assert.ok(s, `acknowledged message with unknown content ${JSON.stringify(m).slice(0, 200)}`);
      assert.equal(m.roomId, s.room);
      assert.equal(m.senderId, s.sender);
      if (s.clientId) assert.equal(m.id, s.clientId, 'a valid unused client id is kept');
      if (s.acked) assert.equal(m.id, s.ackedId, 'one message, one id');
      s.acked = true;
      s.ackedId = m.id;
    };

    function verifyRoom(room, hist) {
      const ids = new Set();
      const contents = new Set();
      let lastSeq = 0;
      hist.forEach((m, i) => {
        const s = sent.get(m.content);
        assert.ok(s, `${room}: stored message nobody sent: ${JSON.stringify(m).slice(0, 200)}`);
        assert.equal(m.roomId, room);
        assert.equal(s.room, room, `${room}: message of another room`);
        assert.equal(m.senderId, s.sender);
        assert.ok(!s.failed, `${room}: a send that got an error is stored: ${m.content}`);
        assert.ok(!ids.has(m.id), `${room}: id ${m.id} twice`);
        assert.ok(!contents.has(m.content), `${room}: message stored twice: ${m.content}`);
        ids.add(m.id);
        contents.add(m.content);
        if (s.clientId) assert.equal(m.id, s.clientId);
        const seq = serverSeq(m.id);
        if (!s.clientId) {
          assert.ok(seq !== null, `server-made id ${m.id} looks like <seq>-<random>`);
          assert.ok(seq > lastSeq, `${room}: server seqs increase along history (${lastSeq} then ${seq} at ${i})`);
          assert.ok(seq >= i + 1, `${room}: seq ${seq} at position ${i} went back`);
          lastSeq = seq;
        }
        if (s.acked) assert.equal(m.id, s.ackedId);
      });
      for (const [content, s] of sent) {
        if (s.room === room && s.acked) assert.ok(contents.has(content), `${room}: acknowledged message lost: ${content} (${s.ackedId})`);
      }
      const prev = previous[room];
      assert.ok(hist.length >= prev.length, `${room}: history shrank from ${prev.length} to ${hist.length}`);
      assert.deepEqual(hist.slice(0, prev.length).map(essence), prev.map(essence),
                       `${room}: the previous round's history is a prefix of this one's`);
      previous[room] = hist;
    }

    for (let round = 0; ; round++) {
      const server = await startOn(dataDir);
      const s1 = await login(server, 'user_1');
      const s2 = await login(server, 'user_2');
      const s3 = await login(server, 'user_3');

      // 1. What survived: REST paging, the join history frame and a since= resume all agree.
      for (const room of Object.keys(ROOMS)) {
        const hist = await fullHistory(server, s1, room);
        verifyRoom(room, hist);
        const joined = await joinHistory(server, s1, room, undefined, hist.length > 0);
        assert.deepEqual(joined?.messages ?? [], hist.slice(-100), `${room}: history on join = newest 100`);
        if (hist.length) {
          const at = Math.floor(Math.random() * hist.length);
          const resumed = await joinHistory(server, s1, room, hist[at].id);
          const missed = hist.length - at - 1;
          const what = `${room}: since=<position ${at} of ${hist.length}>`;
          if (missed > MAX_RESUME) {
            // Too far behind for one frame: the newest history and resumed:false, the client pages back over REST.
            assert.equal(resumed.resumed, false, `${what} is ${missed} behind`);
            assert.deepEqual(resumed.messages, hist.slice(-100), `${what}: the newest 100 instead`);
          } else {
            assert.equal(resumed.resumed, true, `${what} resumes`);
            assert.deepEqual(resumed.messages, hist.slice(at + 1), `${what} resumes the rest`);
          }
        }
      }
      if (round === ROUNDS) {
        await server.stop();
        break;
      }

      // 2. Retry what the crash left open, with the same client id: stored exactly once, whichever way it went.
      for (const [content, s] of sent) {
        if (s.acked || s.failed || !s.clientId) continue;
        const session = { user_1: s1, user_2: s2, user_3: s3 }[s.sender];
        const m = await restSend(server, session, s.room, content, { id: s.clientId });
        ack(m);
        totals.retried++;
      }

      // 3. A stream of chats: three sockets (client ids on some) and two REST senders, then kill -9.
      const a = await joinRoom(server, 'general', s1, { label: `a${round}` });
      const b = await joinRoom(server, 'general', s2, { label: `b${round}` });
      const c = await joinRoom(server, DM, s3, { label: `c${round}` });
      const state = { running: true };
      const wsSender = async (client, sender, room, label, withId) => {
        let n = 0;
        let echoed = 0;
        client.ws.on('message', (d) => { try { const f = JSON.parse(d); if (f.type === 'chat' && f.senderId === sender) echoed++; } catch { /* */ } });
        while (state.running && client.isOpen) {
          if (n - echoed >= WINDOW) { await sleep(2); continue; }
          const content = `${label} r${round} #${n} ${rand()}`;
          const clientId = withId(n) ? `c${round}_${label}${n}` : null;
          record(room, sender, clientId, content);
          try {
            await client.send(clientId ? { type: 'chat', content, id: clientId } : { type: 'chat', content });
          } catch {
            break;
          }
          n++;
          await sleep(1 + Math.random() * 3);
        }
      };
      const restSender = async (session, sender, room, label) => {
        for (let n = 0; state.running; n++) {
          const content = `${label} r${round} #${n} ${rand()}`;
          const clientId = n % 2 ? `c${round}_${label}${n}` : null;
          record(room, sender, clientId, content);
          let res;
          try {
            res = await api(server, 'POST', `/api/rooms/${room}/messages`,
                            { token: session.sessionId, body: clientId ? { content, id: clientId } : { content }, timeoutMs: 5_000 });
          } catch {
            break;  // the server died under the request: its fate is open
          }
          if (res.status === 201) {
            ack(expectOk(res, 201));
          } else {
            expectError(res, 503, 'UNAVAILABLE');  // not stored, and the client was told
            sent.get(content).failed = true;
          }
        }
      };
      const senders = [
        wsSender(a, 'user_1', 'general', 'wsA', (n) => n % 2 === 0),
        wsSender(b, 'user_2', 'general', 'wsB', () => true),
        wsSender(c, 'user_3', DM, 'wsC', (n) => n % 3 !== 0),
        restSender(s2, 'user_2', 'general', 'restB'),
        restSender(s1, 'user_1', DM, 'restA'),
      ];
      const killAfter = Math.floor(30 + Math.random() * 1000);
      totals.killedAfterMs.push(killAfter);
      await sleep(killAfter);
      await server.stop('SIGKILL');
      state.running = false;
      await Promise.all(senders);
      await Promise.all([a, b, c].map((x) => Promise.race([x.closed, sleep(5_000)])));
      // Everything a socket received before the kill counts as acknowledged; an error frame as refused.
      for (const x of [a, b, c]) {
        for (const f of x.all) {
          if (f.type === 'chat') ack(f);
          if (f.type === 'error' && !String(f.ackId).startsWith('sync-')) {  // not joinRoom's round trip
            assert.equal(f.code, 'UNAVAILABLE', `unexpected error frame ${JSON.stringify(f)}`);
            for (const s of sent.values()) if (s.clientId && s.clientId === f.ackId) s.failed = true;
          }
        }
      }
    }
    totals.acked = [...sent.values()].filter((s) => s.acked).length;
    t.diagnostic(`rounds ${ROUNDS}: sent ${totals.sent}, acknowledged ${totals.acked}, retried ${totals.retried}, ` +
                 `stored general ${previous.general.length} / dm ${previous[DM].length}; kills after ${totals.killedAfterMs.join(',')} ms`);
    assert.ok(totals.acked > ROUNDS * 10, 'the stream acknowledged a fair number of messages');
  });
});

// ---------------------------------------------------------------------------------------------------------------

describe('clean restart', () => {
  it('history on join, REST pages, since= resume, nudges, winks and delivery status are identical', async () => {
    const dataDir = freshDataDir('restart');
    const DM = 'dm_user_1__user_2';
    let server = await startOn(dataDir);
    let s1 = await login(server, 'user_1');
    let s2 = await login(server, 'user_2');
    const { winks } = expectOk(await api(server, 'GET', '/api/config'));
    const a = await joinRoom(server, 'general', s1);
    const b = await joinRoom(server, 'general', s2);
    const total = 250;  // more than the room keeps in memory (200), so old anchors come from the file
    for (let i = 0; i < total; i++) {
      await a.send(i % 2 ? { type: 'chat', content: `restart ${i}`, id: `rs${i}` } : { type: 'chat', content: `restart ${i}` });
    }
    await a.waitFor('chat', (f) => f.content === `restart ${total - 1}`, 30_000);
    await a.send({ type: 'nudge' });
    const nudge = await a.waitFor('nudge');
    assert.equal(nudge.isNudge, true);
    await a.send({ type: 'wink', winkId: winks[0], id: 'wink1' });
    const wink = await a.waitFor('chat', (f) => f.id === 'wink1');
    assert.equal(wink.isWink, true);
    const last = await a.chat('to be read');
    const delivered = await a.chat('to be delivered');
    await b.send({ type: 'ack', ackId: last.id, status: 'read' });
    await b.send({ type: 'ack', ackId: delivered.id, status: 'delivered' });
    await b.send({ type: 'ack', ackId: wink.id, status: 'delivered' });
    await b.send({ type: 'ack', ackId: wink.id, status: 'read' });
    await a.waitFor('delivery_status', (f) => f.ackId === wink.id && f.status === 'read');
    await a.waitFor('delivery_status', (f) => f.ackId === delivered.id);
    await a.waitFor('delivery_status', (f) => f.ackId === last.id);
    const dmA = await joinRoom(server, DM, s1);
    await dmA.send({ type: 'nudge', id: 'dmnudge' });
    await dmA.waitFor('nudge', (f) => f.id === 'dmnudge');
    await dmA.chat('dm hello', { id: 'dmhello' });
    for (const c of [a, b, dmA]) await c.close();

    const snapshot = async () => {
      const hist = await fullHistory(server, s1, 'general', 100);
      const odd = await fullHistory(server, s1, 'general', 37);
      assert.deepEqual(odd, hist, 'pages of 37 and of 100 give the same history');
      const byDefault = expectOk(await api(server, 'GET', '/api/rooms/general/messages', { token: s1.sessionId }));
      const firstPageBefore = expectOk(await api(server, 'GET', `/api/rooms/general/messages?before=${hist[0].id}`, { token: s1.sessionId }));
      return {
        hist,
        byDefault,
        firstPageBefore,
        older: expectOk(await api(server, 'GET', `/api/rooms/general/messages?before=${hist[120].id}&limit=100`, { token: s1.sessionId })),
        join: await joinHistory(server, s2, 'general'),
        sinceOld: await joinHistory(server, s2, 'general', hist[3].id),     // not in the room's memory
        sinceRecent: await joinHistory(server, s2, 'general', hist[hist.length - 5].id),
        sinceUnknown: await joinHistory(server, s2, 'general', 'never-sent'),
        dm: await fullHistory(server, s2, DM),
        dmJoin: await joinHistory(server, s2, DM),
      };
    };
    const before = await snapshot();
    assert.equal(before.hist.length, total + 4);
    assert.equal(before.hist[0].content, 'restart 0', 'paging reaches the first message');
    assert.deepEqual(before.firstPageBefore, [], 'nothing before the first message');
    assert.equal(before.byDefault.length, 50);
    assert.equal(before.older.length, 100);
    assert.equal(before.join.messages.length, 100);
    assert.equal(before.sinceOld.resumed, true);
    assert.equal(before.sinceOld.messages.length, before.hist.length - 4);
    assert.equal(before.sinceUnknown.resumed, false);
    const statusOf = (id) => before.hist.find((m) => m.id === id).status;
    assert.equal(statusOf(last.id), 'read');
    assert.equal(statusOf(delivered.id), 'delivered');
    assert.equal(statusOf(wink.id), 'read');
    assert.equal(before.hist.find((m) => m.isNudge)?.type, 'nudge');
    assert.deepEqual(before.dm.map((m) => m.id), ['dmnudge', 'dmhello']);
    assert.equal(before.dm[0].isNudge, true);

    const exit = await server.stop('SIGTERM');
    assert.equal(exit.code, 0, 'clean shutdown');
    server = await startOn(dataDir);
    s1 = await login(server, 'user_1');
    s2 = await login(server, 'user_2');
    const afterRestart = await snapshot();
    assert.deepEqual(afterRestart, before, 'everything is identical after a clean restart');

    // Seqs go on from where they were: a server-made id after the restart is past every earlier one.
    const maxSeq = Math.max(...before.hist.map((m) => serverSeq(m.id) ?? 0));
    const next = await restSend(server, s1, 'general', 'after restart');
    assert.ok(serverSeq(next.id) > maxSeq, `new id ${next.id} continues after seq ${maxSeq}`);
    assert.ok(serverSeq(next.id) >= before.hist.length + 1);
    // And a client id used before the restart is still a retransmission, not a new message.
    const again = await restSend(server, s1, 'general', 'restart 249', { id: 'rs249' });
    assert.equal(again.id, 'rs249');
    const hist = await fullHistory(server, s1, 'general');
    assert.equal(hist.filter((m) => m.id === 'rs249').length, 1);
    assert.equal(hist.length, before.hist.length + 1);
    await server.stop();
  });
});

// ---------------------------------------------------------------------------------------------------------------

/** Bytes of every file in the data dir (history.db, -wal, -shm, anything else). */
function dataFiles(dir) {
  return fs.readdirSync(dir).filter((f) => fs.statSync(path.join(dir, f)).isFile())
    .map((f) => ({ name: f, bytes: fs.readFileSync(path.join(dir, f)) }));
}
const filesContaining = (dir, text) => dataFiles(dir).filter((f) => f.bytes.includes(Buffer.from(text))).map((f) => f.name);

describe('deletion', () => {
  it('DELETE /api/users/me/messages removes the text from the files, leaves placeholders and others\' messages', async () => {
    const dataDir = freshDataDir('delete');
    const DM = 'dm_user_1__user_2';
    const secret = `SECRET${rand()}`;
    const keep = `KEEP${rand()}`;
    let server = await startOn(dataDir);
    let s1 = await login(server, 'user_1');
    let s2 = await login(server, 'user_2');
    const a = await joinRoom(server, 'general', s1);
    const b = await joinRoom(server, 'general', s2);
    const mine = [];
    for (let i = 0; i < 30; i++) {
      mine.push(await a.chat(`${secret} number ${i} ${'x'.repeat(i * 20)}`));
      await b.chat(`${keep} reply ${i}`);
    }
    mine.push(await restSend(server, s1, DM, `${secret} in a direct message`));
    await restSend(server, s2, DM, `${keep} in a direct message`);
    assert.ok(filesContaining(dataDir, secret).length > 0, 'the text is in the files before the deletion');

    expectError(await api(server, 'DELETE', '/api/users/me/messages'), 401, 'UNAUTHORIZED');
    expectError(await api(server, 'DELETE', '/api/users/me/messages', { token: 'not-a-session' }), 401,
                ['UNAUTHORIZED', 'SESSION_EXPIRED']);
    const res = await api(server, 'DELETE', '/api/users/me/messages', { token: s1.sessionId });
    assert.deepEqual(expectOk(res), { deleted: true });

    // Open sockets learn which messages became placeholders.
    const notice = await b.waitFor('messages_deleted');
    assert.equal(notice.roomId, 'general');
    assert.equal(notice.senderId, 'user_1');
    assert.deepEqual(notice.ids, mine.slice(0, 30).map((m) => m.id));

    // Gone from the database file and the WAL, not only hidden; the other user's text is still there.
    assert.deepEqual(filesContaining(dataDir, secret), [], 'the deleted text is absent from every file');
    assert.ok(filesContaining(dataDir, keep).length > 0, 'the other user\'s text is still in the files');

    const checkPlaceholders = async (label) => {
      const hist = await fullHistory(server, s2, 'general');
      assert.equal(hist.length, 60, label);
      for (const m of hist) {
        if (m.senderId === 'user_1') {
          assert.equal(m.content, '', `${label}: placeholder has no content`);
          assert.equal(m.deleted, true, `${label}: placeholder is marked deleted`);
          assert.ok(mine.some((x) => x.id === m.id && x.timestamp === m.timestamp), `${label}: id and time are kept`);
        } else {
          assert.match(m.content, new RegExp(`^${keep} reply`), `${label}: other messages stay`);
          assert.equal(m.deleted, undefined);
        }
      }
      const dm = await fullHistory(server, s2, DM);
      assert.deepEqual(dm.map((m) => [m.senderId, m.content, m.deleted]),
                       [['user_1', '', true], ['user_2', `${keep} in a direct message`, undefined]]);
      const joined = await joinHistory(server, s2, 'general');
      assert.deepEqual(joined.messages, hist, `${label}: the join history shows the placeholders`);
      const resumed = await joinHistory(server, s2, 'general', hist[9].id);
      assert.deepEqual(resumed.messages, hist.slice(10), `${label}: since= shows the placeholders`);
    };
    await checkPlaceholders('live');

    // Deleting is not a ban: a later message is kept; deleting again is harmless.
    const later = await a.chat('written after the deletion');
    assert.deepEqual(expectOk(await api(server, 'DELETE', '/api/users/me/messages', { token: s2.sessionId })), { deleted: true });
    await a.close(); await b.close();
    const afterSecond = await fullHistory(server, s1, 'general');
    assert.equal(afterSecond.at(-1).id, later.id);
    assert.equal(afterSecond.at(-1).content, 'written after the deletion');
    assert.ok(afterSecond.filter((m) => m.senderId === 'user_2').every((m) => m.deleted && m.content === ''));

    assert.equal((await server.stop()).code, 0);
    assert.deepEqual(filesContaining(dataDir, secret), [], 'still absent after shutdown');
    server = await startOn(dataDir);
    s1 = await login(server, 'user_1');
    const restarted = await fullHistory(server, s1, 'general');
    assert.equal(restarted.length, 61);
    assert.ok(restarted.slice(0, 60).every((m) => m.deleted && m.content === ''), 'placeholders survive a restart');
    assert.equal(restarted[60].content, 'written after the deletion');
    await server.stop();
  });
});

// ---------------------------------------------------------------------------------------------------------------

function serverArgs() {
  return ['--config', path.join(SOURCE_DIR, 'config', 'switchboard.json'), '--listen', '127.0.0.1:0'];
}

/** Starts the binary on `dataDir` expecting it to refuse to start; returns {code, output}. */
async function expectStartupFailure(dataDir, config = {}) {
  const env = { SWITCHBOARD_DATA_DIR: dataDir, SWITCHBOARD_LOG_LEVEL: 'info' };
  for (const [k, v] of Object.entries(config)) env['SWITCHBOARD_' + k.toUpperCase().replace(/\./g, '_')] = String(v);
  const r = await runBinary(serverArgs(), { env, timeoutMs: 20_000 });
  assert.equal(r.timedOut, false, `the server must stop by itself, not run: ${r.stdout}${r.stderr}`);
  assert.notEqual(r.code, 0, 'a non-zero exit status');
  const output = r.stdout + r.stderr;
  assert.doesNotMatch(output, /listening on/, 'it never listened');
  return { code: r.code, output, stderr: r.stderr };
}

/** Runs a command; true when it exited 0. */
const run = (cmd, args) => spawnSync(cmd, args, { stdio: 'ignore' }).status === 0;

/** Mounts a tmpfs on `dir` (root only); false when this machine does not allow it. */
function mountTmpfs(dir, options) {
  if (typeof process.getuid !== 'function' || process.getuid() !== 0) return false;
  return run('mount', ['-t', 'tmpfs', '-o', options, 'tmpfs', dir]);
}

/** Sends `count` chats pipelined; resolves {echoed: [Message], errors: [frame]} once each has its echo or error. */
async function burst(client, count, content, prefix) {
  const ids = Array.from({ length: count }, (_, i) => `${prefix}${i}`);
  for (const [i, id] of ids.entries()) await client.send({ type: 'chat', id, content: content(i) });
  const settled = (id) => client.all.some((f) => (f.type === 'chat' || f.type === 'error') && (f.id === id || f.ackId === id));
  await waitUntil(() => ids.every(settled), { timeoutMs: 30_000, what: `an echo or an error for each of ${count} chats` });
  await sleep(300);  // a late echo after an error would be a bug: give it a chance to show
  const echoed = client.all.filter((f) => f.type === 'chat' && ids.includes(f.id));
  const errors = client.all.filter((f) => f.type === 'error' && ids.includes(f.ackId));
  for (const id of ids) {
    const n = echoed.filter((f) => f.id === id).length + errors.filter((f) => f.ackId === id).length;
    assert.equal(n, 1, `chat ${id}: exactly one of echo or error, got ${n}`);
  }
  for (const e of errors) {
    assert.equal(e.code, 'UNAVAILABLE');
    assert.ok(e.content.length > 10, 'a human sentence');
  }
  return { echoed, errors };
}

/** The echoed messages are stored, the refused ones are not. */
async function checkStored(server, session, roomId, { echoed, errors }) {
  const hist = await fullHistory(server, session, roomId);
  const ids = new Set(hist.map((m) => m.id));
  for (const m of echoed) assert.ok(ids.has(m.id), `echoed ${m.id} is stored`);
  for (const e of errors) assert.ok(!ids.has(e.ackId), `refused ${e.ackId} is not stored`);
}

describe('bad disk', () => {
  it('a history.db full of garbage stops start-up with a message naming the file', async () => {
    const dataDir = freshDataDir('garbage');
    const file = path.join(dataDir, 'history.db');
    fs.writeFileSync(file, Buffer.concat([Buffer.from('this is not a database at all\n'), crypto.randomBytes(16384)]));
    const { code, output } = await expectStartupFailure(dataDir);
    assert.equal(code, 1);
    assert.ok(output.includes(file), `the message names ${file}: ${output}`);
    assert.match(output, /not a valid SQLite database|damaged/);
  });

  it('a damaged history.db (pages overwritten) stops start-up with a message naming the file', async () => {
    const dataDir = freshDataDir('damaged');
    const file = path.join(dataDir, 'history.db');
    const server = await startOn(dataDir);
    const s1 = await login(server, 'user_1');
    for (let i = 0; i < 40; i++) await restSend(server, s1, 'general', `filler ${i} ${'y'.repeat(500)}`);
    assert.equal((await server.stop()).code, 0);
    const bytes = fs.readFileSync(file);
    assert.ok(bytes.length > 4 * 4096, `database of ${bytes.length} bytes`);
    crypto.randomFillSync(bytes, 4096, bytes.length - 4096);  // keep the header page, wreck the rest
    fs.writeFileSync(file, bytes);
    const { output } = await expectStartupFailure(dataDir);
    assert.ok(output.includes(file), `the message names ${file}: ${output}`);
    assert.match(output, /damaged|not a valid SQLite database|malformed/);
  });

  it('an unwritable data directory stops start-up with a message naming the file', async (t) => {
    const dataDir = freshDataDir('readonly');
    const file = path.join(dataDir, 'history.db');
    const isRoot = typeof process.getuid === 'function' && process.getuid() === 0;
    let mounted = false;
    if (isRoot) {
      // Root ignores permission bits: only a read-only mount makes the directory unwritable.
      if (!mountTmpfs(dataDir, 'size=16m,mode=0755')) return t.skip('running as root without permission to mount a tmpfs');
      mounted = true;
    }
    try {
      const server = await startOn(dataDir);  // an existing, healthy database ...
      await restSend(server, await login(server, 'user_1'), 'general', 'before read-only');
      assert.equal((await server.stop()).code, 0);
      if (mounted) {
        assert.ok(run('mount', ['-o', 'remount,ro', dataDir]), 'remount read-only');
      } else {
        fs.chmodSync(dataDir, 0o555);
      }
      const { output } = await expectStartupFailure(dataDir);  // ... that can no longer be written
      assert.ok(output.includes(file), `the message names ${file}: ${output}`);
      assert.match(output, /not writable|cannot be written|read-only/);
    } finally {
      if (mounted) run('umount', [dataDir]); else fs.chmodSync(dataDir, 0o755);
    }
  });

  it('a full database: the sender gets an error and no echo, over WebSocket and REST (history.max_page_count)', async () => {
    const dataDir = freshDataDir('full');
    const server = await startOn(dataDir, { 'history.max_page_count': 24 });  // about 96 KiB
    const s1 = await login(server, 'user_1');
    const s2 = await login(server, 'user_2');
    const a = await joinRoom(server, 'general', s1);
    const b = await joinRoom(server, 'general', s2);
    const result = await burst(a, 60, (i) => `filling ${i} ${'z'.repeat(1900)}`, 'full');
    assert.ok(result.echoed.length > 0, 'some messages fit');
    assert.ok(result.errors.length > 0, 'the database filled up');
    // The other member saw exactly the stored ones.
    await sleep(200);
    assert.deepEqual(b.all.filter((f) => f.type === 'chat').map((f) => f.id), result.echoed.map((f) => f.id));
    // REST: 201 while it fits, then 503 UNAVAILABLE and nothing stored.
    let refused = null;
    for (let i = 0; i < 100 && !refused; i++) {
      const res = await api(server, 'POST', '/api/rooms/general/messages',
                            { token: s1.sessionId, body: { content: `rest ${i} ${'w'.repeat(1900)}`, id: `rest${i}` } });
      if (res.status === 201) {
        result.echoed.push(expectOk(res, 201));
      } else {
        expectError(res, 503, 'UNAVAILABLE');
        refused = { ackId: `rest${i}` };
      }
    }
    assert.ok(refused, 'a REST send into the full database is refused with 503');
    result.errors.push(refused);
    await checkStored(server, s1, 'general', result);
    await a.close(); await b.close();
    await server.stop();
  });

  it('a full file system (a tiny tmpfs): the sender gets an error and no echo', async (t) => {
    const dataDir = freshDataDir('tmpfs');
    if (!mountTmpfs(dataDir, 'size=512k,mode=0755')) return t.skip('needs root and permission to mount a tmpfs');
    try {
      const server = await startOn(dataDir);
      const s1 = await login(server, 'user_1');
      const a = await joinRoom(server, 'general', s1);
      const result = await burst(a, 120, (i) => `disk ${i} ${'q'.repeat(2000)}`, 'disk');
      assert.ok(result.echoed.length > 0, 'some messages fit');
      assert.ok(result.errors.length > 0, 'the file system filled up');
      await checkStored(server, s1, 'general', result);
      await a.close();
      await server.stop();
    } finally {
      run('umount', [dataDir]);
    }
  });

  it('a full write queue: refused sends get an error and no echo (history.max_pending_writes=1)', async () => {
    const dataDir = freshDataDir('queue');
    const server = await startOn(dataDir, { 'history.max_pending_writes': 1 });
    const s1 = await login(server, 'user_1');
    const a = await joinRoom(server, 'general', s1);
    const result = await burst(a, 300, (i) => `queued ${i}`, 'q');
    assert.ok(result.echoed.length > 0, 'some were stored');
    assert.ok(result.errors.length > 0, 'some were refused');
    await checkStored(server, s1, 'general', result);
    await a.close();
    await server.stop();
  });
});
