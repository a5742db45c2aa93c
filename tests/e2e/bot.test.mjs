// End to end: a DM with an AI bot against the fake OpenAI-compatible provider (tests/fakes/fake_llm.mjs). The reply
// streams in as chat_delta frames, shows as a growing message with the bot typing, and settles into one message.
import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import {
  Server,
  SOURCE_DIR,
  launchBrowser,
  openPerson,
  signIn,
  openConversation,
  conversation,
  say,
  dm,
  screenshot,
  typedText,
  missingPrerequisite,
} from './helpers.mjs';

const FAKE_LLM = process.env.SWITCHBOARD_FAKE_LLM || join(SOURCE_DIR, 'tests/fakes/fake_llm.mjs');
const skip = missingPrerequisite() || (existsSync(FAKE_LLM) ? null : 'tests/fakes/fake_llm.mjs does not exist yet');
const ME = 'user_8'; // Jamie
const BOT = 'bot_numetal_matt';
const DM = dm(ME, BOT);

// Starts the fake provider on a free port; it prints the port it listens on.
function startFakeLlm() {
  return new Promise((resolve, reject) => {
    // Chunks 250 ms apart keep the reply streaming long enough for the UI's in-progress state to be observed.
    const proc = spawn(process.execPath, [FAKE_LLM, '--port', '0', '--chunk-delay-ms', '250'], {
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let out = '';
    const timer = setTimeout(() => reject(new Error(`fake LLM printed no port:\n${out}`)), 10_000);
    proc.stdout.on('data', (d) => {
      out += d;
      const m = /(\d{2,5})/.exec(out);
      if (m) {
        clearTimeout(timer);
        resolve({ proc, port: Number(m[1]) });
      }
    });
    proc.stderr.on('data', (d) => {
      out += d;
    });
    proc.once('exit', (code) => reject(new Error(`fake LLM exited (${code}):\n${out}`)));
  });
}

describe('web UI: AI bot', { timeout: 180_000 }, () => {
  let llm;
  let server;
  let browser;

  before(async () => {
    if (skip) return;
    llm = await startFakeLlm();
    server = await new Server({
      env: {
        SWITCHBOARD_AI_ENABLED: 'true',
        SWITCHBOARD_AI_PROVIDER: 'openai',
        SWITCHBOARD_AI_BASE_URL: `http://127.0.0.1:${llm.port}/v1`,
        SWITCHBOARD_AI_API_KEY: 'test-key',
        SWITCHBOARD_AI_MODEL: 'fake-model',
        SWITCHBOARD_AI_STREAM: 'true',
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
    if (llm) llm.proc.kill();
  });

  it('streams a bot reply into the conversation', { skip: skip || false }, async () => {
    const jamie = await openPerson(browser, server);
    await signIn(jamie, { userId: ME });
    await jamie.page.waitForSelector(`[data-testid=group-bots] [data-testid=contact-${BOT}]`);
    await openConversation(jamie, `contact-${BOT}`, DM);
    await say(jamie, DM, 'hey matt, what are you listening to?');
    const win = conversation(jamie, DM);
    const reply = win.locator(`[data-testid=message][data-sender=${BOT}]`);
    // While it streams, the message grows in place (it carries the "streaming" class until the final chat lands).
    await win.locator(`[data-testid=message][data-sender=${BOT}].streaming`).first().waitFor({ timeout: 30_000 });
    await win.locator(`[data-testid=message][data-sender=${BOT}]:not(.streaming)`).first().waitFor({ timeout: 30_000 });
    const deltas = jamie.frames.filter((f) => f.frame.type === 'chat_delta' && f.frame.senderId === BOT);
    assert.ok(deltas.length >= 2, `the reply arrived as ${deltas.length} chat_delta frames`);
    const id = deltas[0].frame.id;
    const final = jamie.frames.find((f) => f.frame.id === id && f.frame.type === 'chat');
    assert.ok(final, 'a final chat with the same id replaces the streamed text');
    assert.equal(await reply.count(), 1, 'the streamed text and the final message are one line');
    assert.equal((await typedText(reply.locator('[data-testid=message-text]'))).trim(), final.frame.content.trim());
    assert.match(await win.locator('[data-testid=message-says]', { hasText: 'says:' }).last().textContent(), /says:/);
    await screenshot(jamie, 'bot-conversation');
    assert.deepEqual(jamie.errors, []);
  });
});
