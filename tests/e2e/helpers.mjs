// Shared helpers for the browser tests: start the real binary on a free port with a temp data dir, drive Debian's
// Chromium through playwright-core, sign people in, and save screenshots.
import { spawn } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, copyFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { setTimeout as sleep } from 'node:timers/promises';
import { chromium } from 'playwright-core';
import WebSocket from 'ws';

export const SOURCE_DIR = process.env.SWITCHBOARD_SOURCE_DIR || resolve(dirname(fileURLToPath(import.meta.url)), '../..');
export const BIN = process.env.SWITCHBOARD_BIN || join(SOURCE_DIR, 'build/ci/switchboard');
export const WEB_ROOT = join(SOURCE_DIR, 'web/dist');
export const ARTIFACTS = join(SOURCE_DIR, 'tests/artifacts');
export const CHROMIUM = process.env.CHROMIUM_PATH || '/usr/bin/chromium';

// Why the suite cannot run here, or null when it can.
export function missingPrerequisite() {
  if (!existsSync(BIN)) return `the server binary is missing (${BIN}); build it or set SWITCHBOARD_BIN`;
  if (!existsSync(join(WEB_ROOT, 'index.html'))) return `the web UI is not built (${WEB_ROOT}); run npm ci && npm run build in web/`;
  if (!existsSync(CHROMIUM)) return `Chromium is missing (${CHROMIUM}); apt-get install chromium`;
  return null;
}

export class Server {
  constructor({ dataDir, port = 0, env = {} } = {}) {
    this.dataDir = dataDir || mkdtempSync(join(tmpdir(), 'sb-e2e-data-'));
    this.port = port;
    this.env = env;
    this.proc = null;
    this.log = '';
  }

  get baseUrl() {
    return `http://127.0.0.1:${this.port}`;
  }

  async start() {
    const portFile = join(mkdtempSync(join(tmpdir(), 'sb-e2e-port-')), 'port');
    const args = ['--listen', `127.0.0.1:${this.port}`, '--web-root', WEB_ROOT];
    const config = join(SOURCE_DIR, 'config/switchboard.json');
    if (existsSync(config)) args.unshift('--config', config);
    this.proc = spawn(BIN, args, {
      cwd: SOURCE_DIR,
      env: {
        ...process.env,
        SWITCHBOARD_SERVER_PORT_FILE: portFile,
        SWITCHBOARD_DATA_DIR: this.dataDir,
        ...this.env,
      },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    const append = (d) => {
      this.log = (this.log + d.toString()).slice(-200_000);
    };
    this.proc.stdout.on('data', append);
    this.proc.stderr.on('data', append);
    const exited = new Promise((res) => this.proc.once('exit', (code, sig) => res({ code, sig })));
    this.exited = exited;
    const deadline = Date.now() + 20_000;
    let port = 0;
    while (Date.now() < deadline) {
      const early = await Promise.race([exited, sleep(50).then(() => null)]);
      if (early) throw new Error(`switchboard exited during start-up (${JSON.stringify(early)}):\n${this.log}`);
      try {
        port = Number(readFileSync(portFile, 'utf8').trim());
      } catch {
        port = 0;
      }
      if (port > 0) break;
    }
    if (!port) throw new Error(`switchboard did not write its port file within 20 s:\n${this.log}`);
    this.port = port;
    while (Date.now() < deadline) {
      try {
        const r = await fetch(`${this.baseUrl}/healthz`);
        if (r.ok) return this;
      } catch {
        /* not listening yet */
      }
      await sleep(100);
    }
    throw new Error(`switchboard did not answer /healthz within 20 s:\n${this.log}`);
  }

  async stop() {
    if (!this.proc || this.proc.exitCode !== null) return;
    this.proc.kill('SIGTERM');
    const done = await Promise.race([this.exited, sleep(10_000).then(() => null)]);
    if (!done) {
      this.proc.kill('SIGKILL');
      await this.exited;
    }
  }

  // A restart on the same port with the same data dir.
  async restart() {
    await this.stop();
    await this.start();
  }

  cleanup() {
    try {
      rmSync(this.dataDir, { recursive: true, force: true });
    } catch {
      /* best effort */
    }
  }
}

export async function api(server, path, { method = 'GET', body, sessionId } = {}) {
  const headers = { Accept: 'application/json' };
  if (body !== undefined) headers['Content-Type'] = 'application/json';
  if (sessionId) headers.Authorization = `Bearer ${sessionId}`;
  const r = await fetch(`${server.baseUrl}${path}`, { method, headers, body: body === undefined ? undefined : JSON.stringify(body) });
  const json = await r.json().catch(() => null);
  return { status: r.status, json };
}

// Signs in over the API, retrying while login attempts are rate limited.
export async function loginApi(server, body) {
  for (let i = 0; i < 6; i++) {
    const r = await api(server, '/api/auth/login', { method: 'POST', body: { token: '', ...body } });
    if (r.status === 200) return r.json.data;
    if (r.status !== 429) throw new Error(`login failed: ${r.status} ${JSON.stringify(r.json)}`);
    await sleep(2500);
  }
  throw new Error('login kept being rate limited');
}

// Someone online without a browser: a presence socket opened from Node, with a status and personal message.
export async function connectPresence(server, userId, { status = 'online', personalMessage } = {}) {
  const session = await loginApi(server, { userId });
  const ws = new WebSocket(`${server.baseUrl.replace('http', 'ws')}/api/ws/presence?sessionId=${session.sessionId}`);
  await new Promise((res, rej) => {
    ws.once('open', res);
    ws.once('error', rej);
  });
  const update = { type: 'presence_update', status };
  if (personalMessage !== undefined) update.personalMessage = personalMessage;
  ws.send(JSON.stringify(update));
  const ping = setInterval(() => ws.readyState === WebSocket.OPEN && ws.send('{"type":"ping"}'), 25_000);
  return {
    session,
    close() {
      clearInterval(ping);
      ws.close();
    },
  };
}

export async function launchBrowser() {
  return chromium.launch({
    executablePath: CHROMIUM,
    headless: true,
    args: [
      '--no-sandbox',
      '--disable-gpu',
      '--disable-quic',
      '--no-first-run',
      '--disable-background-networking',
      '--disable-component-update',
      '--disable-sync',
      '--autoplay-policy=no-user-gesture-required',
    ],
  });
}

// A person in their own browser context (own storage, own sockets). Records dialogs, page errors and CSP reports.
export async function openPerson(browser, server, { width = 1280, height = 800 } = {}) {
  const context = await browser.newContext({ viewport: { width, height } });
  const person = { context, dialogs: [], errors: [], csp: [], frames: [], sockets: [], serverSentCsp: null };
  const page = await context.newPage();
  person.page = page;
  page.on('dialog', (d) => {
    person.dialogs.push(d.message());
    d.dismiss().catch(() => {});
  });
  page.on('pageerror', (e) => person.errors.push(e.message));
  // The UI carries the policy in a <meta> tag too; note whether the server also sends it as a header.
  page.on('response', (r) => {
    if (r.request().resourceType() === 'document') person.serverSentCsp = !!r.headers()['content-security-policy'];
  });
  page.on('console', (m) => {
    const t = m.text();
    if (/Content Security Policy|Refused to (load|execute|apply|connect|frame)/i.test(t)) person.csp.push(t);
  });
  page.on('websocket', (ws) => {
    person.sockets.push(ws.url());
    ws.on('framereceived', (f) => {
      if (typeof f.payload !== 'string') return;
      try {
        person.frames.push({ url: ws.url(), frame: JSON.parse(f.payload) });
      } catch {
        /* not JSON */
      }
    });
  });
  await page.goto(server.baseUrl);
  return person;
}

// Signs in on the sign-in window: {userId} for a seeded account or {guest} for a guest name.
export async function signIn(person, { userId, guest, status = 'online' }) {
  const { page } = person;
  await page.waitForSelector('[data-testid=signin-window]');
  for (let attempt = 0; attempt < 4; attempt++) {
    if (guest) {
      await page.click('label[for=mode-guest]');
      await page.fill('[data-testid=signin-guest-name]', guest);
    } else {
      await page.selectOption('[data-testid=signin-account]', userId);
    }
    await page.selectOption('[data-testid=signin-status]', status);
    await page.click('[data-testid=signin-submit]');
    const outcome = await Promise.race([
      page.waitForSelector('[data-testid=contact-list]', { timeout: 15_000 }).then(() => 'ok'),
      page.waitForSelector('[data-testid=signin-error]', { timeout: 15_000 }).then(() => 'error'),
    ]);
    if (outcome === 'ok') return;
    const text = await page.textContent('[data-testid=signin-error]');
    if (!/too many|rate|slow down|try again/i.test(text || '')) throw new Error(`sign-in failed: ${text}`);
    await sleep(3000); // login attempts are rate limited per IP; wait and retry
  }
  throw new Error('sign-in kept being rate limited');
}

export async function sessionIdOf(person) {
  return person.page.evaluate(() => JSON.parse(localStorage.getItem('switchboard.session') || '{}').sessionId);
}

export function conversation(person, roomId) {
  return person.page.locator(`[data-testid=conversation-window][data-room="${roomId}"]`);
}

// Opens (or brings forward) the conversation with a contact or room and waits until its socket is connected.
export async function openConversation(person, testid, roomId) {
  const { page } = person;
  await page.click(`[data-testid=${testid}]`);
  const win = conversation(person, roomId);
  await win.waitFor({ state: 'visible' });
  await page.waitForSelector(`[data-testid=conversation-window][data-room="${roomId}"][data-conn=connected]`, { timeout: 20_000 });
  return win;
}

export async function say(person, roomId, text) {
  const win = conversation(person, roomId);
  const box = win.locator('[data-testid=compose]');
  await box.fill(text);
  await box.press('Enter');
  // Chats sooner than 200 ms apart are refused by the server; keep a human pace.
  await sleep(300);
}

export function dm(a, b) {
  const [x, y] = a < b ? [a, b] : [b, a];
  return `dm_${x}__${y}`;
}

// Saves tests/artifacts/<name>.png. With SWITCHBOARD_UPDATE_SCREENSHOTS=1 the ones marked `docs` are also copied to
// docs/screenshots/ for the README (off by default so a test run leaves the work tree clean).
export async function screenshot(person, name, { docs = false } = {}) {
  mkdirSync(ARTIFACTS, { recursive: true });
  const file = join(ARTIFACTS, `${name}.png`);
  await person.page.screenshot({ path: file });
  if (docs && process.env.SWITCHBOARD_UPDATE_SCREENSHOTS === '1') {
    const dir = join(SOURCE_DIR, 'docs/screenshots');
    mkdirSync(dir, { recursive: true });
    copyFileSync(file, join(dir, `${name}.png`));
  }
  return file;
}

// The text of a message as the person typed it: emoticon pictures count as their codes (their alt text).
export function typedText(locator) {
  return locator.evaluate((el) => {
    let out = '';
    const walk = (n) => {
      if (n.nodeType === 3) out += n.data;
      else if (n.nodeName === 'IMG') out += n.alt;
      else n.childNodes.forEach(walk);
    };
    walk(el);
    return out;
  });
}

export { sleep };
