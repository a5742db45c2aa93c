// End to end on a 375 px-wide phone screen: windows become full-width stacked panels, nothing scrolls sideways,
// and signing in and chatting work with the keyboard alone.
import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import {
  Server,
  launchBrowser,
  openPerson,
  signIn,
  openConversation,
  conversation,
  dm,
  screenshot,
  missingPrerequisite,
} from './helpers.mjs';

const skip = missingPrerequisite();
const ME = 'user_9'; // Avery
const FRIEND = 'user_11'; // Drew
const DM = dm(ME, FRIEND);

describe('web UI: phone-sized screen and keyboard', { timeout: 180_000 }, () => {
  let server;
  let browser;

  before(async () => {
    if (skip) return;
    server = await new Server().start();
    browser = await launchBrowser();
  });

  after(async () => {
    if (browser) await browser.close();
    if (server) {
      await server.stop();
      server.cleanup();
    }
  });

  it('signs in with the keyboard alone', { skip: skip || false }, async () => {
    const p = await openPerson(browser, server, { width: 375, height: 740 });
    const { page } = p;
    await page.waitForSelector('[data-testid=signin-window]');
    // Tab through the form: the first stop is the "account" radio, then the account list.
    await page.keyboard.press('Tab');
    await page.keyboard.press('Tab');
    assert.equal(await page.evaluate(() => document.activeElement.dataset.testid), 'signin-account');
    await page.selectOption('[data-testid=signin-account]', FRIEND); // a native select; arrows work the same
    await page.keyboard.press('Tab');
    assert.equal(await page.evaluate(() => document.activeElement.dataset.testid), 'signin-status');
    await page.keyboard.press('Tab');
    assert.equal(await page.evaluate(() => document.activeElement.dataset.testid), 'signin-submit');
    await page.keyboard.press('Enter');
    await page.waitForSelector('[data-testid=contact-list]');
    await p.context.close();
  });

  it('stacks windows as full-width panels at 375 px', { skip: skip || false }, async () => {
    const friend = await openPerson(browser, server);
    await signIn(friend, { userId: FRIEND });
    const p = await openPerson(browser, server, { width: 375, height: 740 });
    const { page } = p;
    const noSideScroll = () => page.evaluate(() => document.documentElement.scrollWidth <= window.innerWidth + 1);
    await page.waitForSelector('[data-testid=signin-window]');
    assert.ok(await noSideScroll(), 'sign-in fits the screen');
    await screenshot(p, 'mobile-signin');
    await signIn(p, { userId: ME });
    const list = await page.locator('[data-testid=contact-list]').boundingBox();
    assert.ok(list.width >= 355, `contact list is ${list.width}px wide`);
    assert.ok(await noSideScroll(), 'contact list fits the screen');

    await page.waitForSelector(`[data-testid=contact-${FRIEND}][data-status=online]`);
    await openConversation(p, `contact-${FRIEND}`, DM);
    const win = conversation(p, DM);
    const box = await win.boundingBox();
    assert.ok(box.width >= 355, `conversation is ${box.width}px wide`);
    assert.ok(box.y < 60, 'the conversation in use is the first panel');
    assert.ok(await noSideScroll(), 'conversation fits the screen');
    await win.locator('[data-testid=compose]').fill('typing on my phone :)');
    await win.locator('[data-testid=compose]').press('Enter');
    // The friend's window opens minimised (flashing in the taskbar) on a new message.
    await conversation(friend, DM).locator('[data-testid=message-text]', { hasText: 'typing on my phone' }).waitFor({ state: 'attached' });
    await friend.page.waitForSelector(`[data-testid=task-${DM}].flash`);
    await win.locator('[data-testid=delivery-status]').last().waitFor();
    await screenshot(p, 'mobile-conversation');
    assert.deepEqual(p.errors, []);
    assert.deepEqual(p.csp, []);
  });
});
