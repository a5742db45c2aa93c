// End to end against a server with non-default settings: a Turnstile site key (the widget is a stand-in served by
// the test), a short history frame so older messages come from the REST endpoint on scroll, and a short session
// lifetime so the expiry warning shows.
import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import {
  Server,
  launchBrowser,
  openPerson,
  signIn,
  openConversation,
  conversation,
  api,
  loginApi,
  missingPrerequisite,
  sleep,
} from './helpers.mjs';

const skip = missingPrerequisite();
const SITE_KEY = '1x00000000000000000000AA';

// Stands in for Cloudflare's script: renders a button that "passes" the check with a fixed token.
const FAKE_TURNSTILE = `
window.turnstile = {
  render(el, opts) {
    const b = document.createElement('button');
    b.type = 'button';
    b.textContent = 'I am human';
    b.dataset.testid = 'fake-turnstile';
    b.dataset.sitekey = opts.sitekey;
    b.addEventListener('click', () => opts.callback('fake-turnstile-token'));
    el.appendChild(b);
    return 'w1';
  },
  reset() {},
  remove() {},
};`;

describe('web UI: configured features', { timeout: 300_000 }, () => {
  let server;
  let browser;

  before(async () => {
    if (skip) return;
    server = await new Server({
      env: {
        SWITCHBOARD_TURNSTILE_SITE_KEY: SITE_KEY,
        SWITCHBOARD_CHAT_HISTORY_ON_JOIN: '10',
        SWITCHBOARD_CHAT_RATE_LIMIT_MESSAGES: '1000',
        SWITCHBOARD_CHAT_MIN_CHAT_INTERVAL_MS: '0',
        SWITCHBOARD_SESSION_TTL_SECONDS: '150',
      },
    }).start();
    browser = await launchBrowser();
  });

  after(async () => {
    if (browser) await browser.close();
    if (server) {
      await server.stop();
      server.cleanup();
    }
  });

  it('shows the Turnstile widget when the server has a site key, and sends its token', { skip: skip || false }, async () => {
    const p = await openPerson(browser, server);
    await p.context.route('https://challenges.cloudflare.com/**', (route) =>
      route.fulfill({ status: 200, contentType: 'text/javascript', body: FAKE_TURNSTILE }),
    );
    const { page } = p;
    await page.reload();
    await page.waitForSelector('[data-testid=turnstile] [data-testid=fake-turnstile]');
    assert.equal(await page.getAttribute('[data-testid=fake-turnstile]', 'data-sitekey'), SITE_KEY);
    await page.selectOption('[data-testid=signin-account]', 'user_12');
    await page.click('[data-testid=signin-submit]');
    assert.match(await page.textContent('[data-testid=signin-error]'), /human check/);
    await page.click('[data-testid=fake-turnstile]');
    const [request] = await Promise.all([
      page.waitForRequest((r) => r.url().endsWith('/api/auth/login') && r.method() === 'POST'),
      page.click('[data-testid=signin-submit]'),
    ]);
    assert.deepEqual(JSON.parse(request.postData()), { userId: 'user_12', token: 'fake-turnstile-token' });
    await page.waitForSelector('[data-testid=contact-list]');
    await p.context.close();
  });

  it('loads older history from the REST endpoint when scrolled to the top', { skip: skip || false }, async () => {
    const poster = await loginApi(server, { userId: 'user_13' });
    for (let i = 1; i <= 30; i++) {
      const r = await api(server, '/api/rooms/music/messages', {
        method: 'POST',
        body: { content: `old message ${i}` },
        sessionId: poster.sessionId,
      });
      assert.equal(r.status, 201, JSON.stringify(r.json));
    }
    const p = await openPerson(browser, server);
    await p.context.route('https://challenges.cloudflare.com/**', (route) =>
      route.fulfill({ status: 200, contentType: 'text/javascript', body: FAKE_TURNSTILE }),
    );
    await p.page.reload();
    await p.page.click('[data-testid=fake-turnstile]');
    await signIn(p, { userId: 'user_14' });
    await openConversation(p, 'room-music', 'music');
    const win = conversation(p, 'music');
    const olderRequests = [];
    p.page.on('request', (r) => { if (/\/api\/rooms\/music\/messages\?before=/.test(r.url())) olderRequests.push(r.url()); });
    await win.locator('[data-testid=message-text]', { hasText: 'old message 30' }).waitFor();
    // Nothing older until the reader scrolls: let the page run the frames in which it pins the newest line into view
    // and delivers the scroll events that causes (the history overflows this pane by 1 px, so pinning leaves it near
    // the top), and renders whatever those started. A window that loads by itself shows "Loading older messages…"
    // or the older messages by then, instead of the "Show older messages" button.
    await p.page.evaluate(() => new Promise((resolve) => {
      let frames = 3;
      const tick = () => (--frames ? requestAnimationFrame(tick) : resolve());
      requestAnimationFrame(tick);
    }));
    assert.equal(await win.locator('[data-testid=loading-older]').count(), 0, 'no older page requested before the scroll');
    assert.equal(await win.locator('[data-testid=load-older]').count(), 1, 'older history still on offer');
    assert.equal(await win.locator('[data-testid=message-text]', { hasText: /^old message 1$/ }).count(), 0);
    assert.deepEqual(olderRequests, []);
    const [resp] = await Promise.all([
      p.page.waitForResponse((r) => /\/api\/rooms\/music\/messages\?before=/.test(r.url())),
      win.locator('[data-testid=history]').evaluate((el) => {
        el.scrollTop = 0;
        el.dispatchEvent(new Event('scroll'));
      }),
    ]);
    assert.equal(resp.status(), 200);
    assert.equal(resp.request().headers().authorization?.startsWith('Bearer '), true);
    await win.locator('[data-testid=message-text]', { hasText: /^old message 1$/ }).waitFor();
    const texts = await win.locator('[data-testid=message-text]').allTextContents();
    const numbers = texts.filter((t) => t.startsWith('old message')).map((t) => Number(t.split(' ')[2]));
    assert.deepEqual(numbers, Array.from({ length: 30 }, (_, i) => i + 1), 'all thirty, in order, once');
    assert.equal(olderRequests.length, 1, `one older page, on the scroll: ${olderRequests.join(' ')}`);
    await p.context.close();
  });

  it('warns before an idle session expires, and "Stay signed in" refreshes it', { skip: skip || false }, async () => {
    const p = await openPerson(browser, server);
    await p.context.route('https://challenges.cloudflare.com/**', (route) =>
      route.fulfill({ status: 200, contentType: 'text/javascript', body: FAKE_TURNSTILE }),
    );
    await p.page.reload();
    await p.page.click('[data-testid=fake-turnstile]');
    await signIn(p, { userId: 'user_15' });
    // With a 150 s lifetime the warning is due 30 s after the last refresh, once the person has been idle a minute.
    await p.page.waitForSelector('[data-testid=session-warning]', { timeout: 120_000 });
    assert.match(await p.page.textContent('[data-testid=session-warning]'), /signed out in \d:\d\d/);
    const [resp] = await Promise.all([
      p.page.waitForResponse((r) => r.url().endsWith('/api/auth/refresh')),
      p.page.click('[data-testid=stay-signed-in]'),
    ]);
    assert.equal(resp.status(), 200);
    await p.page.waitForSelector('[data-testid=session-warning]', { state: 'detached' });
    await sleep(500);
    assert.equal(await p.page.locator('[data-testid=signed-out]').count(), 0);
    await p.context.close();
  });
});
