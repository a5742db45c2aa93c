// End to end: the server is stopped and started again on the same port with the same data dir. Open windows
// reconnect by themselves, and a person who was away during the gap gets what was said through `since=`.
import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { Server, launchBrowser, openPerson, signIn, openConversation, conversation, say, dm, missingPrerequisite } from './helpers.mjs';

const skip = missingPrerequisite();
const SAM = 'user_3';
const TAYLOR = 'user_4';
const DM = dm(SAM, TAYLOR);

describe('web UI: server restart', { timeout: 240_000 }, () => {
  let server;
  let browser;
  let sam;
  let taylor;

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

  it('reconnects after a restart and fills the gap', { skip: skip || false }, async () => {
    sam = await openPerson(browser, server);
    await signIn(sam, { userId: SAM });
    taylor = await openPerson(browser, server);
    await signIn(taylor, { userId: TAYLOR });
    await openConversation(sam, `contact-${TAYLOR}`, DM);
    await openConversation(taylor, `contact-${SAM}`, DM);
    await say(sam, DM, 'before the restart');
    await conversation(taylor, DM).locator('[data-testid=message-text]', { hasText: 'before the restart' }).waitFor();

    // Taylor loses her network, then the server goes down.
    await taylor.context.setOffline(true);
    await server.stop();
    await sam.page.waitForSelector('[data-testid=connection-state]:is([data-state=reconnecting],[data-state=offline])', { timeout: 15_000 });
    await conversation(sam, DM).locator('[data-testid=conv-connection]:is([data-state=reconnecting],[data-state=offline])').waitFor();

    await server.start(); // same port, same data dir
    const outcome = await Promise.race([
      sam.page.waitForSelector('[data-testid=connection-state][data-state=connected]', { timeout: 60_000 }).then(() => 'connected'),
      sam.page.waitForSelector('[data-testid=signed-out]', { timeout: 60_000 }).then(() => 'signed out'),
    ]);
    assert.equal(outcome, 'connected', 'the restart signed Sam out: sessions must survive a restart with the same data dir');
    await sam.page.waitForSelector(`[data-testid=conversation-window][data-room="${DM}"][data-conn=connected]`, { timeout: 60_000 });

    await say(sam, DM, 'said while you were away');
    await taylor.context.setOffline(false);
    const win = conversation(taylor, DM);
    await win.locator('[data-testid=message-text]', { hasText: 'said while you were away' }).waitFor({ timeout: 60_000 });
    assert.ok(
      taylor.sockets.some((u) => u.includes(`/api/ws/room/${DM}`) && /[?&]since=/.test(u)),
      'the room socket resumed with since=',
    );
    assert.equal(await win.locator('[data-testid=message-text]', { hasText: 'before the restart' }).count(), 1, 'nothing is shown twice');

    await say(taylor, DM, 'back now');
    await conversation(sam, DM).locator('[data-testid=message-text]', { hasText: 'back now' }).waitFor();
    assert.deepEqual(sam.errors, []);
    assert.deepEqual(taylor.errors, []);
  });
});
