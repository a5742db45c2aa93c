// Smoke test of bench/loadgen (switchboard-loadgen): each scenario runs for a couple of seconds with a handful of
// connections against the real server, and its one-line JSON summary must carry every field docs/performance.md
// reads. No figure is asserted (timings belong in the benchmark report, not in tests); counts that do not depend on
// speed are. The binary sits next to the server's in the build tree (bench/loadgen/), or SWITCHBOARD_LOADGEN names it.
import { spawn } from 'node:child_process';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { describe, it, before, after, startServer, TEST_TIMEOUT_MS } from './lib/harness.mjs';

const LOADGEN = process.env.SWITCHBOARD_LOADGEN ||
  path.join(path.dirname(process.env.SWITCHBOARD_BIN || ''), 'bench', 'loadgen', 'switchboard-loadgen');
const built = fs.existsSync(LOADGEN);

function runLoadgen(args, { timeoutMs = 120_000 } = {}) {
  return new Promise((resolve, reject) => {
    const proc = spawn(LOADGEN, args, { stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    let err = '';
    proc.stdout.on('data', (d) => { out += d; });
    proc.stderr.on('data', (d) => { err += d; });
    const timer = setTimeout(() => proc.kill('SIGKILL'), timeoutMs);
    proc.on('error', reject);
    proc.on('exit', (code) => {
      clearTimeout(timer);
      resolve({ code, out, err });
    });
  });
}

async function scenario(server, args) {
  const { code, out, err } = await runLoadgen(['--port', String(server.port), '--server-pid', String(server.pid),
    '--room-ids', 'general,music', ...args]);
  assert.equal(code, 0, `loadgen ${args.join(' ')} exited ${code}\nstdout: ${out}\nstderr: ${err}`);
  const lines = out.trim().split('\n');
  assert.equal(lines.length, 1, `one summary line expected, got:\n${out}`);
  const summary = JSON.parse(lines[0]);
  for (const key of ['scenario', 'target', 'label', 'server_pid', 'sources', 'params', 'ramp', 'connections',
    'results', 'errors', 'wall_s', 'generator_cpu_s', 'load_average_start', 'load_average_end']) {
    assert.ok(key in summary, `summary lacks "${key}": ${lines[0]}`);
  }
  assert.equal(summary.server_pid, server.pid);
  assert.equal(summary.errors.total, 0, `errors: ${JSON.stringify(summary.errors)}`);
  assert.equal(summary.load_average_start.length, 3);
  return summary;
}

const isNumber = (v) => typeof v === 'number' && Number.isFinite(v);
function numbers(obj, keys, where) {
  for (const k of keys) assert.ok(isNumber(obj[k]), `${where}.${k} should be a number: ${JSON.stringify(obj)}`);
}
function latency(obj, where) {
  numbers(obj, ['samples', 'p50', 'p90', 'p99', 'max'], where);
  assert.ok(obj.p50 <= obj.p90 && obj.p90 <= obj.p99 && obj.p99 <= obj.max, `${where} percentiles out of order`);
}
function ramp(obj, connections) {
  numbers(obj, ['target_per_s', 'achieved_per_s', 'attempted', 'connected', 'failed', 'seconds'], 'ramp');
  latency(obj.handshake_ms, 'ramp.handshake_ms');
  assert.equal(obj.connected, connections);
  assert.equal(obj.failed, 0);
}
function chat(obj, where) {
  numbers(obj, ['sent', 'sent_per_s', 'deliveries', 'deliveries_expected', 'deliveries_per_s', 'server_cpu_s',
    'deliveries_per_server_cpu_s', 'phase_s', 'drain_s', 'join_settle_s', 'join_server_cpu_s'], where);
  latency(obj.latency_ms, `${where}.latency_ms`);
  assert.ok(obj.sent > 0, `${where}: nothing was sent`);
  // Every chat reaches every member of its room, the sender included (the run drains before it reports).
  assert.equal(obj.deliveries, obj.deliveries_expected);
  assert.equal(obj.latency_ms.samples, obj.deliveries);
}

// CI builds the ci preset, which always builds the generator: a missing binary there is a failure, not a skip.
if (!built && process.env.CI) throw new Error(`switchboard-loadgen is not built: ${LOADGEN}`);
describe('switchboard-loadgen smoke run', { skip: built ? false : `not built: ${LOADGEN}`, timeout: 10 * TEST_TIMEOUT_MS },
  () => {
    let server;
    before(async () => {
      server = await startServer({ config: {
        'security.login_per_10s': 100000, 'chat.rate_limit_messages': 100000, 'chat.min_chat_interval_ms': 0,
      } });
    });
    after(async () => { await server?.stop(); });

    it('fanout reports deliveries, CPU and latency', { timeout: 3 * TEST_TIMEOUT_MS }, async () => {
      const s = await scenario(server, ['--scenario', 'fanout', '--rooms', '2', '--members', '4', '--senders', '2',
        '--rate', '20', '--duration', '2', '--sources', '3']);
      assert.equal(s.scenario, 'fanout');
      assert.deepEqual(Object.keys(s.params).sort(),
        ['duration_s', 'members', 'payload', 'rate', 'rooms', 'senders_per_room']);
      ramp(s.ramp, 8);
      chat(s.results, 'results');
      assert.equal(s.results.deliveries_expected, s.results.sent * 4);
    });

    it('idle reports RSS per connection and kernel socket memory', { timeout: 3 * TEST_TIMEOUT_MS }, async () => {
      const s = await scenario(server, ['--scenario', 'idle', '--users', '5', '--rooms', '2', '--duration', '1']);
      ramp(s.ramp, 10); // a room socket and a presence socket per user
      numbers(s.results, ['open_at_end', 'closed_unexpectedly', 'settle_s', 'server_rss_kb_start',
        'server_rss_kb_base', 'server_rss_kb', 'rss_per_connection_bytes', 'rss_per_user_incl_session_bytes',
        'kernel_tcp_bytes_per_connection'], 'results');
      assert.equal(s.results.open_at_end, 10);
      assert.ok(s.results.server_rss_kb > 0);
      for (const k of ['sockstat', 'sockstat_base']) numbers(s.results[k], ['inuse', 'mem', 'page_bytes'], k);
    });

    it('churn reports handshakes per second next to a chatting room', { timeout: 3 * TEST_TIMEOUT_MS }, async () => {
      const s = await scenario(server, ['--scenario', 'churn', '--members', '3', '--senders', '1', '--rate', '10',
        '--users', '4', '--churn-rate', '20', '--duration', '2']);
      ramp(s.ramp, 3);
      numbers(s.results, ['cycles_launched', 'handshakes_ok', 'handshake_errors', 'handshakes_per_s', 'launch_s',
        'cycle_s', 'server_cpu_s'], 'results');
      latency(s.results.handshake_ms, 'results.handshake_ms');
      assert.ok(s.results.cycles_launched > 0);
      assert.equal(s.results.handshakes_ok, s.results.cycles_launched);
      assert.equal(s.results.handshake_errors, 0);
      chat(s.results.background_chat, 'results.background_chat');
    });

    it('login reports logins per second', { timeout: 3 * TEST_TIMEOUT_MS }, async () => {
      const s = await scenario(server, ['--scenario', 'login', '--users', '20', '--concurrency', '4',
        '--label', 'memory']);
      assert.equal(s.label, 'memory');
      numbers(s.results, ['logins_ok', 'seconds', 'logins_per_s', 'server_cpu_s', 'logins_per_server_cpu_s'],
        'results');
      assert.equal(s.results.logins_ok, 20);
      latency(s.results.latency_ms, 'results.latency_ms');
    });

    it('refuses bad options with a usage message', async () => {
      for (const [args, text] of [
        [['--scenario', 'nope', '--port', '1'], /--scenario must be/],
        [['--scenario', 'fanout'], /--port is required/],
        [['--scenario', 'fanout', '--port', '1', '--members', 'many'], /--members must be a non-negative integer/],
        [['--scenario', 'fanout', '--port', '1', '--bogus', '1'], /unknown option --bogus/],
      ]) {
        const { code, out, err } = await runLoadgen(args);
        assert.equal(code, 2, `${args.join(' ')}: exit ${code}`);
        assert.equal(out, '');
        assert.match(err, text);
      }
    });

    it('reports a refused server as connect errors in its summary, not a crash', async () => {
      // A login to a port nothing listens on fails; the summary still prints, with the errors counted.
      const { code, out } = await runLoadgen(['--scenario', 'login', '--port', '1', '--users', '2']);
      assert.equal(code, 0);
      const s = JSON.parse(out.trim());
      assert.equal(s.results.logins_ok, 0);
      assert.equal(s.errors.by_kind.login, 2);
    });
  });
