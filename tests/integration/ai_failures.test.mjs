// Honest failures of AI bot replies (issue 4, PROTOCOL §7), through the real binary and real libcurl: every provider
// failure ends in the persona's in-character apology with typing cleared and a log line, never a hang; quotas post
// the §7 system messages; ai.enabled=false and "no provider configured" show the bots offline.
//
// Readings where the contract leaves room:
// - The apology is the bot's `chat` Message and reuses the id of any chat_delta frames already sent, so a client
//   replaces partial streamed text with it.
// - Every reply the server attempts counts against the quotas; one refused over quota does not.
// - With ai.enabled=false the bots stay silent: no typing, no reply, no system line.
import assert from 'node:assert/strict';
import {
  api, after, before, checkMessage, describe, expectOk, it, joinPresence, joinRoom, login, personas, sleep,
  startServer,
} from './lib/harness.mjs';
import {
  API_KEY, COMBOS, aiConfig, botOutcome, closedPort, comboName, dmId, expectTypingCleared, history, persona,
  startFakeLlm, waitForLog,
} from './lib/ai.mjs';

const BOTS = personas().map((p) => p.id);
const LISTED = personas().filter((p) => p.listed).map((p) => p.id);
const MATT = 'bot_numetal_matt';
const TIMEOUT_S = 2;

// A reply long enough that a stream can be cut or corrupted after some text already went out.
const LONG_REPLY = 'well this is a fairly long answer that goes on for a while so that it can break halfway through';

const FAILURES = [
  { name: 'HTTP 500', mode: 'http_500', kind: 'http_status' },
  { name: 'HTTP 429', mode: 'http_429', kind: 'http_status' },
  { name: 'HTTP 401 (key refused)', mode: 'ok', extra: { apiKey: 'a-key-the-server-does-not-have' },
    kind: 'http_status' },
  { name: 'malformed JSON', mode: 'malformed_json', kind: 'malformed' },
  { name: 'an empty reply', mode: 'empty_reply', kind: 'empty' },
  { name: 'a connection cut mid-answer', mode: 'cut_stream', kind: 'cut' },
  { name: 'a provider that never answers (timeout)', mode: 'stall', kind: 'timeout', minMs: TIMEOUT_S * 1000 - 300 },
  { name: 'an answer that stops mid-way (timeout)', mode: 'slow', extra: { slowChunkDelayMs: 30_000 },
    kind: 'timeout', minMs: TIMEOUT_S * 1000 - 300 },
];

/** Sends `text` in the DM of `userId` and `bot` and checks the apology that must follow. Returns the outcome. */
async function expectApology(server, llm, { userId, bot, provider, kind, minMs = 0 }) {
  const s = await login(server, userId);
  const room = dmId(userId, bot);
  const c = await joinRoom(server, room, s);
  const from = c.all.length;
  const t0 = Date.now();
  await c.chat('are you there?');
  const out = await botOutcome(c, bot, from, { timeoutMs: 20_000 });
  const elapsed = Date.now() - t0;

  checkMessage(out.final, { roomId: room, senderId: bot, type: 'chat', content: persona(bot).apology });
  assert.equal(out.typing[0]?.isTyping, true, 'typing was shown while waiting');
  for (const d of out.deltas) assert.equal(d.id, out.final.id, 'partial text and apology share one id');
  assert.ok(elapsed >= minMs, `the apology came after ${elapsed} ms, before the ${minMs} ms expected`);
  assert.ok(elapsed < 15_000, `the apology took ${elapsed} ms`);
  await expectTypingCleared(c, bot, from);
  if (llm) assert.equal(llm.requests.length, 1, 'one provider call per reply, no retries');

  // Logged (with the kind of failure), stored, and the server is still fine.
  await waitForLog(server, `bot ${bot} reply failed: provider=${provider} kind=${kind}`);
  assert.ok((await history(server, s, room)).some((m) => m.id === out.final.id && m.senderId === bot));
  assert.equal((await api(server, 'GET', '/healthz')).status, 200);
  await c.close();
  return out;
}

for (const combo of COMBOS) {
  describe(`AI failures (${comboName(combo)})`, () => {
    let llm;
    let server;
    before(async () => {
      llm = await startFakeLlm({ apiKey: API_KEY, chunkDelayMs: 20 });
      server = await startServer({ config: aiConfig(llm, combo, { 'ai.timeout_seconds': TIMEOUT_S }) });
    });
    after(async () => {
      await server?.stop();
      await llm?.close();
    });

    FAILURES.forEach((f, i) => {
      it(`${f.name}: an in-character apology, typing cleared, logged, no hang`, async () => {
        llm.reset();
        llm.setMode(f.mode, { apiKey: API_KEY, reply: LONG_REPLY, slowChunkDelayMs: 400, ...f.extra });
        const out = await expectApology(server, llm, { userId: `user_${i + 1}`, bot: BOTS[i % BOTS.length],
                                                       provider: combo.provider, kind: f.kind, minMs: f.minMs });
        if (combo.stream && ['cut_stream', 'slow'].includes(f.mode)) {
          // Text that was already streamed is replaced: the deltas are the start of the real answer.
          assert.ok(out.deltas.length >= 1, 'the stream broke after some text went out');
          assert.ok(LONG_REPLY.startsWith(out.deltas.map((d) => d.delta).join('')));
        }
      });
    });

    it('after all that, the bots answer normally again', async () => {
      llm.reset();
      llm.setMode('ok', { apiKey: API_KEY, reply: 'back online!! \\m/' });
      const s = await login(server, 'user_20');
      const room = dmId('user_20', MATT);
      const c = await joinRoom(server, room, s);
      const from = c.all.length;
      await c.chat('you ok now?');
      const out = await botOutcome(c, MATT, from);
      checkMessage(out.final, { senderId: MATT, type: 'chat', content: 'back online!! \\m/' });
      await c.close();
    });
  });
}

describe('AI failures: connection refused', () => {
  for (const provider of ['workers-ai', 'openai']) {
    it(`${provider}: an apology, typing cleared, logged, no hang`, async () => {
      const port = await closedPort();
      const fakeLike = { url: `http://127.0.0.1:${port}`, workersAiBaseUrl: `http://127.0.0.1:${port}/client/v4` };
      const server = await startServer({ config: aiConfig(fakeLike, { provider, stream: true }) });
      try {
        await expectApology(server, null, { userId: 'user_1', bot: MATT, provider, kind: 'connect' });
      } finally {
        await server.stop();
      }
    });
  }
});

describe('AI quotas', () => {
  let llm;
  let server;
  before(async () => {
    llm = await startFakeLlm({ apiKey: API_KEY, reply: 'sure thing!! \\m/' });
    server = await startServer({ config: aiConfig(llm, { provider: 'openai', stream: true },
                                                  { 'ai.user_daily_quota': 2, 'ai.global_daily_quota': 3 }) });
  });
  after(async () => {
    await server?.stop();
    await llm?.close();
  });

  const ask = async (client, bot, text, kind = 'chat') => {
    const from = client.all.length;
    await client.chat(text);
    const out = await botOutcome(client, bot, from, { kind });
    await expectTypingCleared(client, bot, from, 200);
    return out.final;
  };

  it('posts "(Bot limit reached: User Quota)" once a user has used the daily quota', async () => {
    const s = await login(server, 'user_1');
    const room = dmId('user_1', MATT);
    const c = await joinRoom(server, room, s);
    assert.equal((await ask(c, MATT, 'one')).content, 'sure thing!! \\m/');
    assert.equal((await ask(c, MATT, 'two')).content, 'sure thing!! \\m/');
    const limit = await ask(c, MATT, 'three', 'system');
    checkMessage(limit, { roomId: room, senderId: MATT, type: 'system', content: '(Bot limit reached: User Quota)' });
    assert.equal(llm.requests.length, 2, 'no provider call over quota');
    assert.ok((await history(server, s, room)).some((m) => m.id === limit.id), 'the quota message is stored');
    await c.close();
  });

  it('posts "(Bot limit reached: Global Quota)" once every user together used the global quota', async () => {
    const s2 = await login(server, 'user_2');
    const c2 = await joinRoom(server, dmId('user_2', MATT), s2);
    assert.equal((await ask(c2, MATT, 'hello')).content, 'sure thing!! \\m/'); // the third reply today
    const over = await ask(c2, MATT, 'again', 'system');
    checkMessage(over, { senderId: MATT, type: 'system', content: '(Bot limit reached: Global Quota)' });

    // A fresh user in a group room hits the global limit too.
    const s3 = await login(server, 'user_3');
    const g = await joinRoom(server, 'general', s3);
    const inGroup = await ask(g, 'bot_zerocool', '@zerocool hack the planet', 'system');
    checkMessage(inGroup, { roomId: 'general', senderId: 'bot_zerocool', type: 'system',
                            content: '(Bot limit reached: Global Quota)' });
    assert.equal(llm.requests.length, 3);
    await c2.close();
    await g.close();
  });
});

describe('AI switched off (ai.enabled=false)', () => {
  let llm;
  let server;
  before(async () => {
    llm = await startFakeLlm({ apiKey: API_KEY });
    server = await startServer({ config: aiConfig(llm, { provider: 'openai', stream: true },
                                                  { 'ai.enabled': false }) });
  });
  after(async () => {
    await server?.stop();
    await llm?.close();
  });

  it('lists the bots as offline in /api/users, saying why', async () => {
    const users = expectOk(await api(server, 'GET', '/api/users'));
    const bots = users.filter((u) => u.isAiBot);
    assert.deepEqual(bots.map((b) => b.id), LISTED);
    for (const b of bots) {
      assert.equal(b.status, 'offline', `${b.id} must show offline`);
      assert.match(b.personalMessage, /ai\.enabled/);
    }
  });

  it('never shows a bot online in presence', async () => {
    const s = await login(server, 'user_1');
    const p = await joinPresence(server, s);
    const sync = p.all.find((f) => f.type === 'presence_full_sync');
    assert.ok(sync.participants.some((x) => x.id === 'user_1'), 'the full sync lists the user');
    const botsShown = sync.participants.filter((x) => BOTS.includes(x.id) && x.status !== 'offline');
    assert.deepEqual(botsShown, []);
    await p.expectNone((f) => BOTS.includes(f.userId) && f.status !== 'offline', 300, 'bot presence');
    await p.close();
  });

  it('a DM or an @mention gets no reply and makes no provider call', async () => {
    const s = await login(server, 'user_2');
    const dm = await joinRoom(server, dmId('user_2', MATT), s);
    const g = await joinRoom(server, 'general', s);
    const from = [dm.all.length, g.all.length];
    await dm.chat('hello matt?');
    await g.chat('@matt are you there?');
    await sleep(1500);
    assert.deepEqual(dm.all.slice(from[0]).filter((f) => BOTS.includes(f.senderId)), []);
    assert.deepEqual(g.all.slice(from[1]).filter((f) => BOTS.includes(f.senderId)), []);
    assert.equal(llm.requests.length, 0);
    await dm.close();
    await g.close();
  });
});

describe('AI with no provider configured (the default)', () => {
  let server;
  before(async () => {
    server = await startServer({ config: { 'chat.rate_limit_messages': 100000, 'chat.min_chat_interval_ms': 0 } });
  });
  after(async () => { await server?.stop(); });

  it('lists the bots as offline with a personal message naming ai.provider, and logs it', async () => {
    const bots = expectOk(await api(server, 'GET', '/api/users')).filter((u) => u.isAiBot);
    assert.deepEqual(bots.map((b) => b.id), LISTED);
    for (const b of bots) {
      assert.equal(b.status, 'offline');
      assert.match(b.personalMessage, /no AI provider/i);
      assert.match(b.personalMessage, /ai\.provider/);
    }
    await waitForLog(server, /no AI provider configured/);
  });

  it('answers a DM and an @mention with a system message naming the config key, not a fake reply', async () => {
    const s = await login(server, 'user_3');
    const room = dmId('user_3', MATT);
    const dm = await joinRoom(server, room, s);
    let from = dm.all.length;
    await dm.chat('hey matt');
    const out = await botOutcome(dm, MATT, from, { kind: 'system' });
    checkMessage(out.final, { roomId: room, senderId: MATT, type: 'system' });
    assert.match(out.final.content, /ai\.provider/);
    assert.notEqual(out.final.content, persona(MATT).apology);
    assert.ok(!out.frames.some((f) => f.type === 'typing' && f.isTyping), 'nothing pretends to type');
    assert.ok(!out.frames.some((f) => f.type === 'chat'), 'no chat from the bot');
    assert.ok((await history(server, s, room)).some((m) => m.id === out.final.id));

    const g = await joinRoom(server, 'general', s);
    from = g.all.length;
    await g.chat('@jeeves anyone home?');
    const inGroup = await botOutcome(g, 'bot_ask_jeeves', from, { kind: 'system' });
    checkMessage(inGroup.final, { roomId: 'general', senderId: 'bot_ask_jeeves', type: 'system' });
    assert.match(inGroup.final.content, /ai\.provider/);
    await dm.close();
    await g.close();
  });
});
