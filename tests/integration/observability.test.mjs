// Issue 6: analytics events and Prometheus metrics, seen from outside the real binary.
//
// - A scripted session (logins good and bad, chat over WebSocket and REST, nudges up to the limit, a wink, a bot
//   call against the fake LLM, logout) leaves the expected events in data.dir/events.jsonl, shaped like Analytics
//   Engine data points, with no message text and no session id anywhere in the file.
// - /metrics passes `promtool check metrics` (Debian's prometheus package) and its counters move between two
//   scrapes; it is open on loopback, needs metrics.token otherwise (a forwarded request counts as "otherwise", and
//   so does a request to a non-loopback address of this machine), and is refused without a token configured.
// - The HTTP sink retries a batch the collector answered 500, and a sink that never answers fills the bounded
//   queue, which then drops and counts events while chat goes on at full speed.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import http from 'node:http';
import os from 'node:os';
import path from 'node:path';

import { startFakeLlm } from '../fakes/fake_llm.mjs';
import { startFakeSiteverify } from '../fakes/fake_siteverify.mjs';
import {
  api, describe, expectError, it, joinPresence, joinRoom, login, restSend, sleep, startServer, waitUntil, withTimeout,
} from './lib/harness.mjs';
import { haveRedis, startRedis } from './lib/redis.mjs';

// ---------------------------------------------------------------------------------------------------------------
// Helpers

/** Every event in the JSON-lines file (and its rotated siblings), oldest file first. */
function readEvents(server, file = 'events.jsonl') {
  const base = path.join(server.dataDir, file);
  const files = fs.readdirSync(server.dataDir)
    .filter((f) => f === file || f.startsWith(`${file}.`))
    .map((f) => path.join(server.dataDir, f))
    .sort((a, b) => (a === base) - (b === base) || b.localeCompare(a));
  const out = [];
  for (const f of files) {
    for (const line of fs.readFileSync(f, 'utf8').split('\n')) {
      if (line.trim()) out.push(JSON.parse(line));
    }
  }
  return out;
}

function rawEventText(server) {
  const p = path.join(server.dataDir, 'events.jsonl');
  return fs.existsSync(p) ? fs.readFileSync(p, 'utf8') : '';
}

const named = (events, name) => events.filter((e) => e.blobs[0] === name);

/** Parses the exposition text into {'name{labels}': value}; label order as written. */
function parseMetrics(text) {
  const out = new Map();
  for (const line of text.split('\n')) {
    if (!line || line.startsWith('#')) continue;
    const m = /^([^\s{]+(?:\{.*\})?) (\S+)$/.exec(line);
    assert.ok(m, `unparsable metrics line: ${line}`);
    out.set(m[1], Number(m[2]));
  }
  return out;
}

function promtool(text) {
  const r = spawnSync('promtool', ['check', 'metrics'], { input: text, encoding: 'utf8', timeout: 30_000 });
  if (r.error) throw new Error(`promtool is not runnable (${r.error.message}); scripts/install-deps.sh --test installs it`);
  return r;
}

async function scrape(server, headers = {}) {
  const res = await api(server, 'GET', '/metrics', { headers });
  assert.equal(res.status, 200, res.text.slice(0, 300));
  assert.match(res.headers['content-type'], /^text\/plain; version=0\.0\.4/);
  const check = promtool(res.text);
  assert.equal(check.status, 0, `promtool check metrics failed:\n${check.stdout}${check.stderr}`);
  return { text: res.text, values: parseMetrics(res.text) };
}

/** A loopback HTTP collector; `answer(n)` gives the status of the n-th POST (0-based), or null to never answer. */
async function startCollector(answer = () => 200) {
  const posts = [];
  const stalled = [];
  const server = http.createServer((req, res) => {
    const chunks = [];
    req.on('data', (c) => chunks.push(c));
    req.on('end', () => {
      const n = posts.length;
      posts.push({ headers: req.headers, body: Buffer.concat(chunks).toString('utf8') });
      const status = answer(n);
      if (status === null) {
        stalled.push(res);
        return;
      }
      res.writeHead(status, { 'content-type': 'application/json' }).end('{}');
    });
  });
  await new Promise((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    url: `http://127.0.0.1:${server.address().port}/ingest`,
    posts,
    async close() {
      for (const r of stalled) r.destroy();
      server.closeAllConnections?.();
      await new Promise((resolve) => server.close(resolve));
    },
  };
}

/** A GET to `host` (not necessarily loopback) on the server's port. */
function getFrom(host, port, urlPath, headers = {}) {
  return new Promise((resolve, reject) => {
    const req = http.request({ host, port, path: urlPath, method: 'GET', headers, agent: false }, (res) => {
      const chunks = [];
      res.on('data', (c) => chunks.push(c));
      res.on('end', () => {
        const text = Buffer.concat(chunks).toString('utf8');
        let json;
        try { json = JSON.parse(text); } catch { json = undefined; }
        resolve({ status: res.statusCode, headers: res.headers, text, json });
      });
    });
    req.setTimeout(10_000, () => req.destroy(new Error('no answer')));
    req.on('error', reject);
    req.end();
  });
}

function nonLoopbackIPv4() {
  for (const addrs of Object.values(os.networkInterfaces())) {
    for (const a of addrs ?? []) if (a.family === 'IPv4' && !a.internal) return a.address;
  }
  return null;
}

const SECRETS = ['zebra-octopus-7731 said hello', 'the REST secret is mango-42', 'hey @Clippy what is kumquat-909'];

// ---------------------------------------------------------------------------------------------------------------

describe('analytics events and metrics for a scripted session', () => {
  it('records every event without text, and the counters move between scrapes', { timeout: 120_000 }, async () => {
    const llm = await startFakeLlm({ mode: 'ok' });
    try {
      const server = await startServer({
        config: {
          'ai.provider': 'openai', 'ai.base_url': llm.url, 'ai.model': 'fake', 'ai.stream': false,
          'ai.user_daily_quota': 1,
          'analytics.flush_interval_ms': 100,
        },
      });
      const before = await scrape(server);

      // Logins: two good, one for an account that does not exist.
      const a = await login(server, 'user_1');
      const b = await login(server, 'user_2');
      expectError(await api(server, 'POST', '/api/auth/login', { body: { userId: 'user_999' } }), 404, 'NOT_FOUND');

      const roomA = await joinRoom(server, 'general', a);
      const roomB = await joinRoom(server, 'general', b);
      const presenceA = await joinPresence(server, a);

      // Chat over WebSocket and REST.
      const sent = await roomA.chat(SECRETS[0]);
      await roomB.waitFor('chat', (f) => f.id === sent.id);
      await restSend(server, b, 'general', SECRETS[1]);

      // Nudges up to the limit (3 per 10 s), then one more: RATE_LIMITED.
      for (let i = 0; i < 3; i++) {
        await roomA.send({ type: 'nudge', id: `n-${i}-obs` });
        await roomA.waitFor('nudge', (f) => f.id === `n-${i}-obs`);
      }
      await roomA.send({ type: 'nudge', id: 'n-limit-obs' });
      const limited = await roomA.waitError('n-limit-obs');
      assert.equal(limited.code, 'RATE_LIMITED');

      await roomA.send({ type: 'wink', winkId: 'kiss', id: 'w-1-obs' });
      await roomA.next((f) => f.id === 'w-1-obs');

      // A bot in its DM: the first message is answered, the second is over the daily quota of 1.
      const dm = await joinRoom(server, 'dm_bot_clippy__user_1', a);
      await dm.chat(SECRETS[2]);
      await dm.next((f) => f.type === 'chat' && f.senderId === 'bot_clippy', 30_000);
      await sleep(300); // past chat.min_chat_interval_ms
      await dm.chat('again please');
      await dm.next((f) => f.senderId === 'bot_clippy' && /limit/i.test(f.content ?? ''), 30_000);

      // b signs out: its socket closes with 4401; a closes its room socket itself.
      assert.equal((await api(server, 'POST', '/api/auth/logout', { token: b.sessionId })).status, 200);
      assert.equal((await withTimeout(roomB.closed, 10_000, 'logout close')).code, 4401);
      await roomA.close(1000);

      const events = await waitUntil(() => {
        const all = readEvents(server);
        const need = ['login_success', 'login_failed', 'ws_open', 'message_sent', 'nudge', 'wink', 'rate_limited',
                      'ai_invocation', 'ai_quota_exceeded', 'logout'];
        const closes = named(all, 'ws_close').map((e) => e.doubles[0]);
        return need.every((n) => named(all, n).length) && closes.includes(4401) && closes.includes(1000) && all;
      }, { timeoutMs: 20_000, what: 'every expected event in events.jsonl' });

      // The shape of every data point.
      for (const e of events) {
        assert.equal(e.dataset, 'switchboard');
        assert.equal(typeof e.index, 'string');
        assert.ok(e.index.length > 0 && Buffer.byteLength(e.index) <= 96, `index ${e.index}`);
        assert.ok(Array.isArray(e.blobs) && e.blobs.length >= 1 && e.blobs.length <= 20);
        assert.ok(Array.isArray(e.doubles) && e.doubles.length <= 20 && e.doubles.every((d) => typeof d === 'number'));
        assert.ok(Math.abs(e.timestamp - Date.now()) < 5 * 60_000, `timestamp ${e.timestamp}`);
      }

      // No message text, no session id, anywhere in the file.
      const raw = rawEventText(server);
      for (const secret of [...SECRETS, 'again please', 'zebra', 'mango', 'kumquat']) {
        assert.ok(!raw.includes(secret), `events.jsonl contains message text "${secret}"`);
      }
      for (const s of [a.sessionId, b.sessionId]) assert.ok(!raw.includes(s), 'events.jsonl contains a session id');

      assert.deepEqual(named(events, 'login_success').map((e) => e.index).sort(), ['user_1', 'user_2']);
      assert.deepEqual(named(events, 'login_failed')[0].blobs, ['login_failed', 'unknown_account']);
      assert.equal(named(events, 'login_failed')[0].index, 'anonymous');

      const messages = named(events, 'message_sent');
      const ws = messages.find((e) => e.index === 'user_1' && e.blobs[3] === 'ws' && e.blobs[1] === 'group');
      assert.ok(ws, JSON.stringify(messages));
      assert.deepEqual(ws.blobs, ['message_sent', 'group', 'general', 'ws']);
      assert.deepEqual(ws.doubles, [[...SECRETS[0]].length, Buffer.byteLength(SECRETS[0])]);
      const rest = messages.find((e) => e.index === 'user_2');
      assert.deepEqual(rest.blobs, ['message_sent', 'group', 'general', 'rest']);
      const direct = messages.find((e) => e.blobs[1] === 'direct');
      assert.equal(direct.blobs[2], '', 'a direct room id names both people and stays out of events');

      assert.equal(named(events, 'nudge').length, 3);
      assert.deepEqual(named(events, 'rate_limited')[0].blobs, ['rate_limited', 'nudges', 'group']);
      assert.ok(named(events, 'rate_limited')[0].doubles[0] > 0, 'retry-after in ms');
      assert.deepEqual(named(events, 'wink')[0].blobs, ['wink', 'group', 'general', 'kiss']);

      const ai = named(events, 'ai_invocation');
      const ok = ai.find((e) => e.blobs[3] === 'ok');
      assert.ok(ok, JSON.stringify(ai));
      assert.deepEqual(ok.blobs.slice(0, 3), ['ai_invocation', 'bot_clippy', 'openai']);
      assert.equal(ok.index, 'user_1');
      assert.ok(ok.doubles[0] >= 0, 'latency ms');
      assert.equal(ok.doubles[1], 1, 'completion tokens from the provider\'s usage');
      assert.ok(ok.doubles[2] > 0, 'reply bytes');
      assert.ok(ai.some((e) => e.blobs[3] === 'quota_user'));
      assert.deepEqual(named(events, 'ai_quota_exceeded')[0].blobs, ['ai_quota_exceeded', 'bot_clippy', 'user']);

      const opens = named(events, 'ws_open');
      assert.ok(opens.some((e) => e.index === 'user_1' && e.blobs[1] === 'presence'));
      assert.ok(opens.some((e) => e.index === 'user_2' && e.blobs[1] === 'room' && e.blobs[3] === 'general'));
      const closeB = named(events, 'ws_close').find((e) => e.index === 'user_2');
      assert.equal(closeB.doubles[0], 4401);
      assert.ok(closeB.doubles[1] >= 0 && closeB.doubles[1] < 120, `duration ${closeB.doubles[1]} s`);
      assert.equal(named(events, 'logout')[0].index, 'user_2');

      // The counters moved, by what the session did.
      const after = await scrape(server);
      const delta = (k) => (after.values.get(k) ?? 0) - (before.values.get(k) ?? 0);
      assert.ok(delta('switchboard_messages_total{type="chat"}') >= 3, 'chat messages');
      assert.ok(delta('switchboard_messages_total{type="nudge"}') === 3, 'nudges');
      assert.ok(delta('switchboard_messages_total{type="wink"}') === 1, 'winks');
      assert.ok(delta('switchboard_messages_total{type="bot_reply"}') >= 1, 'bot replies');
      assert.ok(delta('switchboard_broadcast_deliveries_total') >= 5, 'deliveries');
      assert.equal(delta('switchboard_http_requests_total{route="/api/auth/login",status="200"}'), 2);
      assert.equal(delta('switchboard_http_requests_total{route="/api/auth/login",status="404"}'), 1);
      assert.equal(delta('switchboard_http_requests_total{route="/api/rooms/:id/messages",status="201"}'), 1);
      assert.ok(delta('switchboard_http_requests_total{route="/api/ws/room/:id",status="101"}') >= 3);
      assert.ok(delta('switchboard_http_request_duration_seconds_count{route="/api/auth/login"}') >= 3);
      assert.equal(delta('switchboard_ai_invocations_total{outcome="ok"}'), 1);
      assert.equal(delta('switchboard_ai_invocations_total{outcome="quota_user"}'), 1);
      assert.equal(delta('switchboard_ai_invocation_duration_seconds_count{outcome="ok"}'), 1);
      assert.ok(delta('switchboard_analytics_events_written_total') >= events.length - 2);
      assert.equal(after.values.get('switchboard_analytics_events_dropped_total{reason="queue_full"}'), 0);
      assert.ok(after.values.get('switchboard_uptime_seconds') > 0);
      assert.ok(after.values.get('process_start_time_seconds') > 1.6e9);
      assert.equal(after.values.get('switchboard_sessions'), 1, 'user_1 is still signed in, user_2 is not');
      // Raw paths never become labels: the room id appears nowhere in the metrics.
      assert.ok(!/general|dm_bot/.test(after.text), 'a raw path leaked into the metrics');
      // Open sockets: a's presence and DM sockets (the closes above may still be finishing on the server).
      await waitUntil(async () => {
        const v = (await scrape(server)).values;
        return v.get('switchboard_connections{kind="presence_ws"}') === 1 &&
               v.get('switchboard_connections{kind="room_ws"}') === 1;
      }, { what: 'connection gauges: 1 presence socket, 1 room socket' });
      // Redis is not configured here, so its gauge is absent rather than a misleading 0.
      assert.ok(!after.text.includes('switchboard_redis_connected'));

      await presenceA.close();
      await dm.close();
    } finally {
      await llm.close();
    }
  });
});

describe('Turnstile in events', () => {
  it('a refused token is a turnstile_failed and a login_failed event, without the token', async () => {
    const secret = 'obs-secret-0123456789';
    const sv = await startFakeSiteverify({ secret });
    try {
      const server = await startServer({
        config: {
          'turnstile.secret_key': secret, 'turnstile.site_key': '1x00000000000000000000AA',
          'turnstile.verify_url': sv.url, 'analytics.flush_interval_ms': 100,
        },
      });
      expectError(await api(server, 'POST', '/api/auth/login', { body: { userId: 'user_12', token: 'invalid' } }),
                  403, 'TURNSTILE_FAILED');
      expectError(await api(server, 'POST', '/api/auth/login', { body: { userId: 'user_12' } }), 403,
                  'TURNSTILE_FAILED');
      const events = await waitUntil(() => {
        const all = readEvents(server);
        return named(all, 'turnstile_failed').length >= 2 && named(all, 'login_failed').length >= 2 && all;
      }, { what: 'turnstile_failed events' });
      const [first, second] = named(events, 'turnstile_failed');
      assert.deepEqual(first.blobs.slice(0, 2), ['turnstile_failed', 'rejected']);
      assert.match(first.blobs[2], /invalid-input-response/);
      assert.equal(first.index, 'anonymous');
      assert.equal(second.blobs[1], 'rejected');
      assert.ok(named(events, 'login_failed').every((e) => e.blobs[1] === 'turnstile'));
      assert.ok(!rawEventText(server).includes('"invalid"'), 'the token itself stays out');
    } finally {
      await sv.close();
    }
  });
});

describe('/metrics access', () => {
  it('is open on loopback; a forwarded request needs metrics.token', async () => {
    const server = await startServer({ config: { 'metrics.token': 'scrape-me-3141' } });
    await scrape(server);
    const forwarded = { 'x-forwarded-for': '203.0.113.50' };
    const noToken = await api(server, 'GET', '/metrics', { headers: forwarded });
    expectError(noToken, 401, 'UNAUTHORIZED');
    expectError(await api(server, 'GET', '/metrics', { headers: { ...forwarded, authorization: 'Bearer wrong' } }),
                401, 'UNAUTHORIZED');
    await scrape(server, { ...forwarded, authorization: 'Bearer scrape-me-3141' });
  });

  it('refuses non-local clients when no token is configured', async () => {
    const server = await startServer();
    const res = await api(server, 'GET', '/metrics', { headers: { 'x-real-ip': '203.0.113.50' } });
    const error = expectError(res, 403, 'FORBIDDEN');
    assert.match(error.message, /metrics\.token/);
  });

  it('applies to a non-loopback address of this machine', async (t) => {
    const ip = nonLoopbackIPv4();
    if (!ip) return t.skip('this machine has no non-loopback IPv4 address');
    const withToken = await startServer({ listen: '0.0.0.0:0', config: { 'metrics.token': 'scrape-me-3141' } });
    assert.equal((await getFrom(ip, withToken.port, '/metrics')).status, 401);
    const ok = await getFrom(ip, withToken.port, '/metrics', { authorization: 'Bearer scrape-me-3141' });
    assert.equal(ok.status, 200);
    assert.equal(promtool(ok.text).status, 0);
    const noToken = await startServer({ listen: '0.0.0.0:0' });
    const refused = await getFrom(ip, noToken.port, '/metrics');
    assert.equal(refused.status, 403);
    assert.equal(refused.json?.error?.code, 'FORBIDDEN');
    assert.equal((await getFrom('127.0.0.1', noToken.port, '/metrics')).status, 200);
  });
});

describe('analytics sinks', () => {
  it('the HTTP sink posts batches to a collector and retries after a 500', async () => {
    const collector = await startCollector((n) => (n === 0 ? 500 : 200));
    try {
      const server = await startServer({
        config: {
          'analytics.sink': 'http', 'analytics.http_url': collector.url, 'analytics.http_token': 'collector-token',
          'analytics.flush_interval_ms': 100, 'analytics.http_initial_backoff_ms': 50,
        },
      });
      await login(server, 'user_3');
      await waitUntil(() => collector.posts.length >= 2, { what: 'the retried POST' });
      assert.deepEqual(collector.posts[0].body, collector.posts[1].body, 'the same batch again');
      const batch = JSON.parse(collector.posts[1].body);
      assert.ok(Array.isArray(batch));
      assert.ok(batch.some((e) => e.blobs[0] === 'login_success' && e.index === 'user_3'));
      assert.equal(collector.posts[0].headers.authorization, 'Bearer collector-token');
      assert.match(collector.posts[0].headers['content-type'], /application\/json/);
      const m = (await scrape(server)).values;
      assert.ok(m.get('switchboard_analytics_events_written_total') >= 1);
      assert.equal(m.get('switchboard_analytics_events_dropped_total{reason="sink_failed"}'), 0);
    } finally {
      await collector.close();
    }
  });

  it('a full queue drops and counts events without stalling chat', { timeout: 120_000 }, async () => {
    // The collector takes the first batch and never answers: the recorder waits on it while the tiny queue fills.
    const collector = await startCollector(() => null);
    try {
      const server = await startServer({
        config: {
          'analytics.sink': 'http', 'analytics.http_url': collector.url, 'analytics.http_timeout_ms': 60_000,
          'analytics.queue_size': 5, 'analytics.batch_max_events': 1, 'analytics.flush_interval_ms': 50,
          'chat.min_chat_interval_ms': 0, 'chat.rate_limit_messages': 1000,
        },
      });
      const a = await login(server, 'user_4');
      const room = await joinRoom(server, 'general', a);
      await waitUntil(() => collector.posts.length === 1, { what: 'the first (stalled) batch' });
      const times = [];
      for (let i = 0; i < 40; i++) {
        const t0 = Date.now();
        await room.chat(`message ${i}`);
        times.push(Date.now() - t0);
      }
      times.sort((x, y) => x - y);
      const p95 = times[Math.floor(times.length * 0.95)];
      console.log(`# chat round trip with a stalled sink: median ${times[times.length >> 1]} ms, p95 ${p95} ms`);
      assert.ok(p95 < 2_000, `chat slowed down behind analytics: p95 ${p95} ms`);
      const m = (await scrape(server)).values;
      const dropped = m.get('switchboard_analytics_events_dropped_total{reason="queue_full"}');
      assert.ok(dropped >= 40 - 5, `dropped ${dropped}`);
      assert.equal(m.get('switchboard_analytics_queue_length'), 5);
      assert.equal(collector.posts.length, 1, 'one batch at a time');

      // Shutdown is still bounded: the flush gives up on the stalled batch.
      const t0 = Date.now();
      const status = await withTimeout(server.stop('SIGTERM'), 15_000, 'exit');
      assert.equal(status.code, 0);
      assert.ok(Date.now() - t0 < 13_000, `exit took ${Date.now() - t0} ms`);
    } finally {
      await collector.close();
    }
  });

  it('the Redis sink appends to a capped stream, and /metrics shows the link',
     { skip: !haveRedis() && 'redis-server is not installed' }, async () => {
    const redis = await startRedis();
    try {
      const server = await startServer({
        config: {
          'redis.url': redis.url, 'analytics.sink': 'redis', 'analytics.redis_stream': 'obs:events',
          'analytics.redis_maxlen': 1000, 'analytics.flush_interval_ms': 100,
        },
      });
      await waitUntil(async () => (await api(server, 'GET', '/readyz')).status === 200, { what: 'Redis up' });
      const a = await login(server, 'user_13');
      await waitUntil(async () => Number(await redis.cmd('XLEN', 'obs:events')) >= 1, { what: 'an XADD' });
      // redis-cli --raw prints the entry id, then field and value lines in turn.
      const [, ...kv] = (await redis.cmd('XRANGE', 'obs:events', '-', '+', 'COUNT', '1')).split('\n');
      const fields = {};
      for (let i = 0; i + 1 < kv.length; i += 2) fields[kv[i]] = kv[i + 1];
      assert.equal(fields.dataset, 'switchboard');
      assert.equal(fields.index, 'user_13');
      assert.equal(fields.blob1, 'login_success');
      assert.equal(fields.blob2, 'account');
      assert.ok(Math.abs(Number(fields.timestamp) - Date.now()) < 60_000);
      assert.ok(!(await redis.cmd('XRANGE', 'obs:events', '-', '+')).includes(a.sessionId));
      const m = (await scrape(server)).values;
      assert.equal(m.get('switchboard_redis_connected{link="commands"}'), 1);
      assert.equal(m.get('switchboard_redis_connected{link="subscriber"}'), 1);
    } finally {
      await redis.stop();
    }
  });

  it('rotates the events file by size and keeps file_keep files', async () => {
    const server = await startServer({
      config: { 'analytics.file_max_bytes': 2048, 'analytics.file_keep': 2, 'analytics.flush_interval_ms': 50 },
    });
    for (let i = 0; i < 40; i++) await login(server, `user_${(i % 20) + 1}`);
    await waitUntil(() => fs.existsSync(path.join(server.dataDir, 'events.jsonl.2')), { what: 'two rotations' });
    await waitUntil(() => named(readEvents(server), 'login_success').length >= 10, { what: 'events' });
    const files = fs.readdirSync(server.dataDir).filter((f) => f.startsWith('events.jsonl'));
    assert.deepEqual(files.sort(), ['events.jsonl', 'events.jsonl.1', 'events.jsonl.2']);
    for (const f of files) assert.ok(fs.statSync(path.join(server.dataDir, f)).size <= 2048, `${f} is too big`);
  });
});
