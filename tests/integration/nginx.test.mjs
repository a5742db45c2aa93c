// Issue 6: Switchboard behind a real nginx (Debian's nginx-light) running the shipped docker/nginx.conf, with only
// the upstream addresses, the listen address and nginx's own temp paths substituted. Through the proxy: sign-in,
// a WebSocket chat, the client address taken from X-Forwarded-For (security.trusted_proxies), and /metrics kept
// off the public side.
import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import fs from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';

import {
  SOURCE_DIR, after, api, before, connect, describe, expectError, expectOk, it, joinRoom, login, roomPath,
  startServer, waitUntil,
} from './lib/harness.mjs';

const NGINX = ['/usr/sbin/nginx', '/usr/bin/nginx'].find((p) => fs.existsSync(p));

function freePort() {
  return new Promise((resolve, reject) => {
    const srv = net.createServer();
    srv.on('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const { port } = srv.address();
      srv.close(() => resolve(port));
    });
  });
}

/** docker/nginx.conf with the upstream servers, the listen address and nginx's temp paths made local. */
function localNginxConf(upstreamPorts, listenPort, tmp) {
  let conf = fs.readFileSync(path.join(SOURCE_DIR, 'docker', 'nginx.conf'), 'utf8');
  const servers = /^(\s*)server switchboard-\d+:8080[^;]*;\n/gm;
  const lines = [...conf.matchAll(servers)];
  assert.ok(lines.length >= 2, 'the shipped nginx.conf lists the instances upstream');
  const indent = lines[0][1];
  conf = conf.replace(servers, '');
  conf = conf.replace(/(upstream switchboard \{\n(?:.*\n)*?\s*least_conn;\n)/,
                      (m) => m + upstreamPorts.map((p) => `${indent}server 127.0.0.1:${p};\n`).join(''));
  assert.match(conf, /listen 8080;/);
  conf = conf.replace('listen 8080;', `listen 127.0.0.1:${listenPort};`);
  const temps = ['client_body', 'proxy', 'fastcgi', 'uwsgi', 'scgi']
    .map((k) => `    ${k}_temp_path ${path.join(tmp, `${k}_temp`)};`).join('\n');
  conf = conf.replace(/^http \{\n/m, `http {\n${temps}\n`);
  return conf;
}

describe('behind nginx with the shipped config', { skip: NGINX ? false : 'nginx is not installed' }, () => {
  let server;
  let nginx;
  let logFile;
  const nginxLog = () => (logFile && fs.existsSync(logFile) ? fs.readFileSync(logFile, 'utf8') : '');
  let tmp;
  let proxy; // what the harness needs to talk to nginx as if it were the server

  before(async () => {
    server = await startServer({
      config: { 'security.trusted_proxies': '127.0.0.1/32', 'security.login_per_10s': 2 },
    });
    tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'switchboard-nginx-'));
    // nginx's workers drop root; they need to reach the temp paths.
    fs.chmodSync(tmp, 0o755);
    for (const k of ['client_body', 'proxy', 'fastcgi', 'uwsgi', 'scgi']) {
      fs.mkdirSync(path.join(tmp, `${k}_temp`), { mode: 0o777 });
      fs.chmodSync(path.join(tmp, `${k}_temp`), 0o777);
    }
    const port = await freePort();
    const confPath = path.join(tmp, 'nginx.conf');
    fs.writeFileSync(confPath, localNginxConf([server.port], port, tmp));
    const args = ['-p', tmp, '-c', confPath, '-e', 'stderr', '-g', `daemon off; pid ${path.join(tmp, 'nginx.pid')};`];
    // The config logs to /dev/stdout, which cannot be opened when stdout is a socket (Node's pipes are): give
    // nginx a file, as a container runtime gives it a pipe.
    logFile = path.join(tmp, 'nginx.log');
    const out = fs.openSync(logFile, 'a');
    const check = spawnSync(NGINX, ['-t', ...args], { stdio: ['ignore', out, out] });
    assert.equal(check.status, 0, `nginx -t refused the config:\n${fs.readFileSync(logFile, 'utf8')}`);
    nginx = spawn(NGINX, args, { stdio: ['ignore', out, out] });
    fs.closeSync(out);
    proxy = { port, baseUrl: `http://127.0.0.1:${port}`, wsUrl: `ws://127.0.0.1:${port}` };
    await waitUntil(async () => (await api(proxy, 'GET', '/healthz', { timeoutMs: 2_000 })).status === 200,
                    { what: `nginx on port ${port} proxying /healthz` })
      .catch((err) => { throw new Error(`${err.message}\n--- nginx log ---\n${nginxLog()}`); });
  });

  after(async () => {
    if (nginx && nginx.exitCode === null) {
      const exited = new Promise((resolve) => nginx.once('exit', resolve));
      nginx.kill('SIGQUIT'); // graceful: finish what is in flight
      const timer = setTimeout(() => nginx.kill('SIGKILL'), 5_000);
      await exited;
      clearTimeout(timer);
    }
    if (tmp) fs.rmSync(tmp, { recursive: true, force: true });
  });

  it('proxies the API, and keeps /metrics off the public side', async () => {
    const ready = await api(proxy, 'GET', '/readyz');
    assert.equal(expectOk(ready).status, 'ready');
    assert.equal((await api(proxy, 'GET', '/metrics')).status, 404);
    // The instance itself still serves it to a local scrape.
    assert.equal((await api(server, 'GET', '/metrics')).status, 200);
    const users = expectOk(await api(proxy, 'GET', '/api/users'));
    assert.ok(users.length > 0);
  });

  it('signs in and chats over a WebSocket through the proxy', async () => {
    const a = await login(proxy, 'user_5');
    const b = await login(proxy, 'user_6');
    const roomA = await joinRoom(proxy, 'general', a);
    const roomB = await joinRoom(proxy, 'general', b);
    const sent = await roomA.chat('through the proxy');
    const got = await roomB.waitFor('chat', (f) => f.id === sent.id);
    assert.equal(got.content, 'through the proxy');
    assert.equal(got.senderId, 'user_5');
    // The heartbeat ping/pong and a second message in the other direction.
    await roomB.send({ type: 'ping' });
    const back = await roomB.chat('and back');
    await roomA.waitFor('chat', (f) => f.id === back.id);
    const closeInfo = await roomA.close(1000);
    assert.equal(closeInfo.code, 1000);
    await roomB.close(1000);
  });

  it('takes the client address from X-Forwarded-For', async () => {
    // security.login_per_10s is 2 per client address: a third attempt from the same forwarded address is refused,
    // while another address (or the proxy itself) still gets in. Without trusted_proxies every client would share
    // nginx's address and its limit.
    const from = (ip) => ({ 'x-forwarded-for': ip });
    const attempt = (ip, who) => api(proxy, 'POST', '/api/auth/login', { body: { userId: who }, headers: from(ip) });
    expectOk(await attempt('198.51.100.7', 'user_7'));
    expectOk(await attempt('198.51.100.7', 'user_8'));
    const third = await attempt('198.51.100.7', 'user_9');
    expectError(third, 429, 'RATE_LIMITED');
    expectOk(await attempt('198.51.100.8', 'user_9'));

    // The server's access log names the forwarded client and the proxy it came through.
    await waitUntil(() => /198\.51\.100\.8 POST \/api\/auth\/login 200 \d+ms via 127\.0\.0\.1/.test(server.logs()),
                    { what: 'an access log line with the forwarded address' });

    // The WebSocket upgrade, too.
    const s = expectOk(await attempt('203.0.113.44', 'user_10'));
    const room = await connect(proxy, roomPath('music'), { sessionId: s, headers: from('203.0.113.44') });
    await room.waitFor('participants', (f) => f.participants.some((p) => p.id === 'user_10'));
    await waitUntil(() => /websocket \/api\/ws\/room\/music from 203\.0\.113\.44 via 127\.0\.0\.1/.test(server.logs()),
                    { what: 'the upgrade logged with the forwarded address' });
    await room.close();
  });
});
