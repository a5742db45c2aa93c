// A real redis-server for the integration suites: started on a free loopback port with no persistence in its own
// temp dir, killable and restartable on the same port (to test outages), and a small command helper that shells
// out to redis-cli (both come from Debian's redis-server package, which the README's test command installs).
import { execFile, spawn } from 'node:child_process';
import fs from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { sleep, waitUntil } from './harness.mjs';

/** A free TCP port on 127.0.0.1 (bind to 0, read it, close). */
export function freePort() {
  return new Promise((resolve, reject) => {
    const srv = net.createServer();
    srv.once('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const { port } = srv.address();
      srv.close(() => resolve(port));
    });
  });
}

/** Whether redis-server is installed; suites skip without it locally but CI (CI=true) must have it. */
export function haveRedis() {
  const found = (process.env.PATH || '').split(':').some((dir) => fs.existsSync(path.join(dir || '.', 'redis-server')));
  if (!found && process.env.CI) throw new Error('redis-server is not installed (scripts/install-deps.sh --test installs it)');
  return found;
}

export async function startRedis() {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'switchboard-redis-'));
  const port = await freePort();
  let proc = null;
  let log = '';

  const redis = {
    port,
    url: `redis://127.0.0.1:${port}/0`,
    logs: () => log,
    /** Starts (or restarts after kill) the server and waits until it answers PING. */
    async start() {
      proc = spawn('redis-server', ['--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no',
                                    '--dir', dir, '--daemonize', 'no', '--protected-mode', 'no'],
                   { stdio: ['ignore', 'pipe', 'pipe'] });
      proc.stdout.on('data', (d) => { log += d; });
      proc.stderr.on('data', (d) => { log += d; });
      await waitUntil(async () => (await redis.cmd('PING').catch(() => '')) === 'PONG',
                      { what: `redis-server on port ${port}`, timeoutMs: 15_000 });
    },
    /** SIGKILLs the server (an outage, not a clean shutdown) and waits for it to be gone. */
    async kill() {
      if (!proc || proc.exitCode !== null) return;
      const exited = new Promise((resolve) => proc.once('exit', resolve));
      proc.kill('SIGKILL');
      await exited;
      proc = null;
    },
    async stop() {
      await redis.kill();
      fs.rmSync(dir, { recursive: true, force: true });
    },
    /** Runs one command through redis-cli and resolves its raw output, trimmed. */
    cmd(...args) {
      return new Promise((resolve, reject) => {
        execFile('redis-cli', ['-h', '127.0.0.1', '-p', String(port), '--raw', ...args.map(String)],
                 { timeout: 5_000 }, (err, stdout, stderr) => {
                   if (err) return reject(new Error(`redis-cli ${args.join(' ')}: ${stderr || err.message}`));
                   resolve(stdout.trim());
                 });
      });
    },
  };
  await redis.start();
  return redis;
}

export { sleep };
