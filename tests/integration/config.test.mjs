// Issue 2 §3: command line and configuration — --help, --version, --config, --listen, --web-root, environment
// overrides (SWITCHBOARD_SECTION_KEY), fail-fast validation naming the key, and the "listening on" log line.
//
// Readings: precedence is file < environment < command line (DESIGN §3), so `--listen` wins over a bad
// SWITCHBOARD_SERVER_LISTEN. A bad value's message must contain the dotted key (e.g. "session.ttl_seconds"); a bad
// --listen flag must at least mention "listen". --version prints the CMake project version.
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import {
  after, api, before, describe, expectOk, it, portFromLogs, runBinary, SOURCE_DIR, startServer, waitUntil,
} from './lib/harness.mjs';

const CONFIG = path.join(SOURCE_DIR, 'config', 'switchboard.json');
let tmp;
before(() => { tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'switchboard-config-')); });
after(() => { fs.rmSync(tmp, { recursive: true, force: true }); });

function dataDirEnv() {
  const dir = fs.mkdtempSync(path.join(tmp, 'data-'));
  return { SWITCHBOARD_DATA_DIR: dir };
}

/** Runs the binary expecting a start-up failure; returns the combined output. */
async function expectStartFailure(args, env = {}) {
  const r = await runBinary(args, { env: { ...dataDirEnv(), ...env }, timeoutMs: 15_000 });
  assert.ok(!r.timedOut, `expected start-up to fail, but it kept running.\n${r.stdout}${r.stderr}`);
  assert.notEqual(r.code, 0, `expected a non-zero exit code.\n${r.stdout}${r.stderr}`);
  assert.equal(r.signal, null, `expected an orderly exit, got signal ${r.signal}.\n${r.stdout}${r.stderr}`);
  return r.stdout + r.stderr;
}

describe('command line', () => {
  it('--help prints usage and exits 0', async () => {
    const r = await runBinary(['--help']);
    assert.equal(r.code, 0, r.stderr);
    const out = r.stdout + r.stderr;
    assert.match(out, /usage/i);
    for (const flag of ['--config', '--listen', '--version', '--web-root']) assert.ok(out.includes(flag), `mentions ${flag}`);
  });

  it('--version prints the project version and exits 0', async () => {
    const r = await runBinary(['--version']);
    assert.equal(r.code, 0, r.stderr);
    const version = /project\(switchboard VERSION ([0-9.]+)/.exec(fs.readFileSync(path.join(SOURCE_DIR, 'CMakeLists.txt'), 'utf8'))[1];
    assert.ok((r.stdout + r.stderr).includes(version), `version ${version} in ${JSON.stringify(r.stdout + r.stderr)}`);
  });

  it('an unknown flag fails with a message', async () => {
    const out = await expectStartFailure(['--no-such-flag']);
    assert.match(out, /no-such-flag/);
  });
});

describe('configuration errors stop start-up with the key in the message', () => {
  it('bad environment values', async () => {
    const cases = [
      [{ SWITCHBOARD_SESSION_TTL_SECONDS: 'abc' }, 'session.ttl_seconds'],
      [{ SWITCHBOARD_SESSION_TTL_SECONDS: '0' }, 'session.ttl_seconds'],
      [{ SWITCHBOARD_CHAT_RATE_LIMIT_MESSAGES: '-5' }, 'chat.rate_limit_messages'],
      [{ SWITCHBOARD_LOG_LEVEL: 'chatty' }, 'log.level'],
      [{ SWITCHBOARD_AI_ENABLED: 'maybe' }, 'ai.enabled'],
    ];
    for (const [env, key] of cases) {
      const out = await expectStartFailure(['--config', CONFIG, '--listen', '127.0.0.1:0'], env);
      assert.ok(out.includes(key), `message names ${key}: ${out.slice(0, 500)}`);
    }
  });

  it('a bad SWITCHBOARD_SERVER_LISTEN and a bad --listen', async () => {
    const out = await expectStartFailure(['--config', CONFIG], { SWITCHBOARD_SERVER_LISTEN: 'nonsense' });
    assert.ok(out.includes('server.listen'), out.slice(0, 500));
    const flag = await expectStartFailure(['--config', CONFIG, '--listen', 'nonsense']);
    assert.match(flag, /listen/);
  });

  it('bad values, unknown keys and broken JSON in a config file', async () => {
    const write = (name, text) => { const p = path.join(tmp, name); fs.writeFileSync(p, text); return p; };
    const cases = [
      [write('bad-type.json', '{"session": {"ttl_seconds": "soon"}}'), 'session.ttl_seconds'],
      [write('unknown.json', '{"sesion": {"ttl_seconds": 5}}'), 'sesion.ttl_seconds'],
      [write('rooms.json', '{"chat": {"rooms": [{"id": "bad id!", "name": "x"}]}}'), 'chat.rooms'],
    ];
    for (const [file, key] of cases) {
      const out = await expectStartFailure(['--config', file, '--listen', '127.0.0.1:0']);
      assert.ok(out.includes(key), `message names ${key}: ${out.slice(0, 500)}`);
    }
    const broken = await expectStartFailure(['--config', write('broken.json', '{"session": '), '--listen', '127.0.0.1:0']);
    assert.ok(broken.includes('broken.json'), `message names the file: ${broken.slice(0, 500)}`);
    await expectStartFailure(['--config', path.join(tmp, 'does-not-exist.json'), '--listen', '127.0.0.1:0']);
  });

  it('a port already in use', async () => {
    const first = await startServer();
    const out = await expectStartFailure(['--config', CONFIG, '--listen', `127.0.0.1:${first.port}`]);
    assert.ok(out.length > 0, 'says why');
    await first.stop();
  });
});

describe('start-up', () => {
  it('logs "listening on http://HOST:PORT" with the real port, which matches the port file', async () => {
    const server = await startServer();
    await waitUntil(() => portFromLogs(server.logs()), { what: 'the listening line' });
    assert.equal(portFromLogs(server.logs()), server.port);
    // The port may come from the port file before the log line is through the pipe: wait for the line.
    await waitUntil(() => server.logs().includes(`listening on http://127.0.0.1:${server.port}`), { what: 'the start-up line' });
    const fromFile = await waitUntil(() => Number(fs.readFileSync(server.portFile, 'utf8').trim()), { what: 'the port file' });
    assert.equal(fromFile, server.port);
    assert.notEqual(server.port, 0);
    assert.equal((await api(server, 'GET', '/healthz')).status, 200);
    const second = await startServer();
    assert.notEqual(second.port, server.port, 'port 0 picks a free port each time');
    await second.stop();
    await server.stop();
  });

  it('reads SWITCHBOARD_* overrides, and the command line wins over the environment', async () => {
    const server = await startServer({ config: { 'chat.winks': 'wave,smile' }, env: { SWITCHBOARD_SERVER_LISTEN: 'nonsense' } });
    const cfg = expectOk(await api(server, 'GET', '/api/config'));
    assert.deepEqual(cfg.winks, ['wave', 'smile']);
    await server.stop();
  });

  it('--web-root serves files from a directory, with the single-page fallback', async () => {
    const root = fs.mkdtempSync(path.join(tmp, 'web-'));
    fs.writeFileSync(path.join(root, 'index.html'), '<!doctype html><html><body>custom-root-marker</body></html>');
    fs.writeFileSync(path.join(root, 'hello.txt'), 'hello file');
    const server = await startServer({ args: ['--web-root', root] });
    const index = await api(server, 'GET', '/');
    assert.equal(index.status, 200);
    assert.match(index.text, /custom-root-marker/);
    assert.match(index.headers['content-type'], /text\/html/);
    const file = await api(server, 'GET', '/hello.txt');
    assert.equal(file.status, 200);
    assert.equal(file.text, 'hello file');
    assert.match(file.headers['content-type'], /text\/plain/);
    const spa = await api(server, 'GET', '/contacts/user_1');
    assert.equal(spa.status, 200);
    assert.match(spa.text, /custom-root-marker/);
    const apiStill = await api(server, 'GET', '/api/nope');
    assert.equal(apiStill.status, 404);
    assert.equal(apiStill.json?.error?.code, 'NOT_FOUND');
    await server.stop();
  });
});

describe('an installed server, started from /', () => {
  it('reads the files its config names relative to the config file, and keeps its data where the file says', async () => {
    // /etc/switchboard as an operator lays it out: the shipped files, with one account added to the copy.
    const etc = fs.mkdtempSync(path.join(tmp, 'etc-'));
    for (const f of ['switchboard.json', 'users.json', 'personas.json'])
      fs.copyFileSync(path.join(SOURCE_DIR, 'config', f), path.join(etc, f));
    const users = JSON.parse(fs.readFileSync(path.join(etc, 'users.json'), 'utf8'));
    users.users.push({ id: 'user_installed', email: 'i@example.com', displayName: 'Only In The Copy', avatarId: 'duck' });
    fs.writeFileSync(path.join(etc, 'users.json'), JSON.stringify(users));
    const server = await startServer({ cwd: '/', args: ['--config', path.join(etc, 'switchboard.json')],
                                       env: { SWITCHBOARD_DATA_DIR: null } });
    const session = expectOk(await api(server, 'POST', '/api/auth/login', { body: { userId: 'user_installed' } }));
    const sent = await api(server, 'POST', '/api/rooms/general/messages',
                           { token: session.sessionId, body: { content: 'from an installed server' } });
    assert.equal(sent.status, 201, sent.text);
    await server.stop();
    // The shipped file's data.dir is "../data": next to the folder that holds the file, not under /.
    assert.ok(fs.existsSync(path.join(etc, '..', 'data', 'history.db')), 'history.db where data.dir points');
    assert.ok(!fs.existsSync('/data/history.db'), 'nothing written relative to the working directory');
  });

  it('with a config file that names no data files, serves the seeded accounts built into the binary', async () => {
    const etc = fs.mkdtempSync(path.join(tmp, 'bare-'));
    fs.writeFileSync(path.join(etc, 'switchboard.json'), '{"chat": {"winks": ["wave"]}}');
    const server = await startServer({ cwd: '/', args: ['--config', path.join(etc, 'switchboard.json')] });
    const session = expectOk(await api(server, 'POST', '/api/auth/login', { body: { userId: 'user_1' } }));
    assert.equal(session.user.id, 'user_1');
    const listed = expectOk(await api(server, 'GET', '/api/users', { token: session.sessionId }));
    assert.ok(listed.some((u) => u.id === 'user_20'), 'all twenty seeded accounts');
    await server.stop();
  });
});
