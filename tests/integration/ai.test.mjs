// AI bot contacts through the real binary and real libcurl, against the fake provider (tests/fakes/fake_llm.mjs),
// for both wire protocols (Workers AI REST and OpenAI-compatible), streamed and not: PROTOCOL §7 and issue 4.
// Failure modes, quotas, ai.enabled=false and "no provider" are in ai_failures.test.mjs.
//
// Readings where the contract leaves room:
// - chat_delta frames carry the cleaned text as it grows, paced to one per 100 ms. When the answer ends, the final
//   `chat` (same id, whole text) is sent at once instead of one more delta, so the deltas add up to a prefix of the
//   final text: after a fast stream, the text up to the last paced flush; after a slow one, normally all of it.
// - The context is the last ai.context_messages stored messages of the room (the one being answered included).
//   Consecutive turns of one side are merged into one turn, and a leading bot turn is dropped because chat
//   templates need the first turn after the system prompt to be the user's.
import assert from 'node:assert/strict';
import { performance } from 'node:perf_hooks';
import {
  after, api, before, checkMessage, describe, displayNameOf, it, joinRoom, login, sleep, startServer, waitUntil,
} from './lib/harness.mjs';
import {
  API_KEY, COMBOS, OPENAI_MODEL, aiConfig, botOutcome, comboName, dmId, expectTypingCleared, expectedPath, history,
  lastTurn, persona, startFakeLlm,
} from './lib/ai.mjs';

const MATT = 'bot_numetal_matt';
const JEEVES = 'bot_ask_jeeves';
const CLIPPY = 'bot_clippy'; // unlisted, but @mentionable
const TOM = 'bot_tom';

for (const combo of COMBOS) {
  describe(`AI bots (${comboName(combo)})`, () => {
    let llm;
    let server;
    before(async () => {
      llm = await startFakeLlm({ apiKey: API_KEY, chunkDelayMs: 10 });
      server = await startServer({ config: aiConfig(llm, combo, { 'ai.context_messages': 4 }) });
    });
    after(async () => {
      await server?.stop();
      await llm?.close();
    });

    it('answers a DM in character, in the provider\'s wire format, and stores the reply', async () => {
      const reply = 'yo!! just blasting hybrid theory again, wanna come to band practice? \\m/';
      llm.reset();
      llm.setMode('ok', { reply });
      const alex = await login(server, 'user_1');
      const room = dmId('user_1', MATT);
      assert.equal(room, 'dm_bot_numetal_matt__user_1');
      const c = await joinRoom(server, room, alex);
      const from = c.all.length;
      const mine = await c.chat('hey matt, what are you listening to?');
      const out = await botOutcome(c, MATT, from);

      checkMessage(out.final, { roomId: room, senderId: MATT, type: 'chat', content: reply, isNudge: false,
                                isWink: false });
      assert.notEqual(out.final.id, mine.id);
      assert.equal(out.typing[0]?.isTyping, true, 'the bot shows typing first');
      assert.ok(out.frames.indexOf(out.typing[0]) < out.frames.indexOf(out.final), 'typing precedes the reply');
      if (combo.stream) assert.ok(out.deltas.length >= 1, 'a streaming provider streams');
      else assert.equal(out.deltas.length, 0, 'no chat_delta without streaming');
      await expectTypingCleared(c, MATT, from);

      // Exactly one call, in the provider's own format, with the key and the persona's system prompt.
      assert.equal(llm.requests.length, 1);
      const r = llm.requests[0];
      assert.equal(r.method, 'POST');
      assert.equal(r.path, expectedPath(combo.provider));
      assert.equal(r.headers.authorization, `Bearer ${API_KEY}`);
      assert.equal(r.body.stream, combo.stream);
      if (combo.provider === 'openai') assert.equal(r.body.model, OPENAI_MODEL);
      assert.ok(r.body.max_tokens > 0);
      assert.equal(r.body.messages[0].role, 'system');
      assert.ok(r.body.messages[0].content.includes(persona(MATT).systemPrompt), 'persona system prompt sent');
      assert.match(r.body.messages[0].content, /2005/);
      assert.equal(r.body.messages.at(-1).role, 'user');
      assert.equal(lastTurn(r), `${displayNameOf('user_1')}: hey matt, what are you listening to?`);

      // Stored like any message, under the id the room saw.
      const stored = (await history(server, alex, room)).find((m) => m.id === out.final.id);
      assert.ok(stored, 'the reply is in REST history');
      checkMessage(stored, { roomId: room, senderId: MATT, content: reply, type: 'chat' });
      await c.close();
    });

    it('answers an @mention in a group room; plain messages and bot messages trigger nothing', async () => {
      const reply = "Hey @tom, it looks like you're writing a letter! Would you like help with that?";
      llm.reset();
      llm.setMode('ok', { reply });
      const sam = await login(server, 'user_2');
      const kim = await login(server, 'user_3');
      const a = await joinRoom(server, 'general', sam);
      const b = await joinRoom(server, 'general', kim);

      await a.chat('just chatting, no bots here');
      await a.chat('mail me at someone@clippy.example'); // an e-mail address is not a mention
      await a.chat('@nobody_by_that_name hello? @clippy'); // only the first @word counts
      await sleep(800);
      assert.equal(llm.requests.length, 0, 'no provider call for plain messages');

      const from = b.all.length;
      await a.chat('@Clippy can you help me with a letter?');
      const out = await botOutcome(b, CLIPPY, from); // the other participant sees the reply too
      checkMessage(out.final, { roomId: 'general', senderId: CLIPPY, type: 'chat', content: reply });
      assert.equal(llm.requests.length, 1);
      assert.ok(llm.requests[0].body.messages[0].content.includes(persona(CLIPPY).systemPrompt));
      assert.match(llm.requests[0].body.messages[0].content, /group chat room/);

      // The reply @mentions Tom, but bot messages never trigger bots.
      await sleep(1000);
      assert.equal(llm.requests.length, 1, 'the bot\'s own message triggered a provider call');
      assert.deepEqual(b.all.slice(from).filter((f) => f.senderId === TOM), []);
      await expectTypingCleared(b, CLIPPY, from, 0);

      // A case-insensitive part of a display name works: @matt is Nu-Metal Matt.
      llm.setMode('ok', { reply: 'yeah im here!! \\m/' });
      const from2 = b.all.length;
      await a.chat('@MATT you there?');
      const out2 = await botOutcome(b, MATT, from2);
      checkMessage(out2.final, { roomId: 'general', senderId: MATT, content: 'yeah im here!! \\m/' });
      assert.equal(llm.requests.length, 2);
      await a.close();
      await b.close();
    });

    it('streams chat_delta frames with the final message\'s id, then the whole text; typing shown then cleared',
       { skip: !combo.stream && 'non-streaming configuration' }, async () => {
         const reply = 'Certainly, sir. Shall I fetch the almanac as well?';
         llm.reset();
         // Chunks further apart than the 100 ms pace: each one goes out as it arrives.
         llm.setMode('ok', { reply, chunkDelayMs: 250 });
         const s = await login(server, 'user_4');
         const room = dmId('user_4', JEEVES);
         const c = await joinRoom(server, room, s);
         const from = c.all.length;
         await c.chat('Jeeves, recite something long for me.');
         const out = await botOutcome(c, JEEVES, from);

         checkMessage(out.final, { roomId: room, senderId: JEEVES, type: 'chat', content: reply });
         assert.ok(out.deltas.length >= 2, `the reply arrived in ${out.deltas.length} chat_delta frame(s)`);
         for (const d of out.deltas) {
           assert.deepEqual(Object.keys(d).sort(), ['delta', 'id', 'roomId', 'senderId', 'type']);
           assert.equal(d.id, out.final.id, 'every delta carries the final message\'s id');
           assert.equal(d.roomId, room);
           assert.equal(typeof d.delta, 'string');
           assert.ok(d.delta.length > 0);
         }
         const order = (f) => out.frames.indexOf(f);
         assert.ok(order(out.deltas.at(-1)) < order(out.final), 'deltas come before the final chat');
         assert.ok(order(out.typing[0]) < order(out.deltas[0]) && out.typing[0].isTyping === true,
                   'typing is shown before the first delta');
         // Normally every chunk goes out as its own delta and they add up to the whole text; on a starved machine
         // the last chunks can fall inside one pacing window and only reach the client in the final chat.
         const streamed = out.deltas.map((d) => d.delta).join('');
         assert.ok(out.final.content.startsWith(streamed) && streamed.length >= out.final.content.length / 2,
                   `the deltas add up to ${JSON.stringify(streamed)}, not to (most of) the final text`);
         await expectTypingCleared(c, JEEVES, from);
         await c.close();
       });

    it('coalesces a fast stream to at most about ten chat_delta frames a second',
       { skip: !combo.stream && 'non-streaming configuration' }, async () => {
         const pieces = 100;
         const reply = Array.from({ length: pieces }, () => 'la').join(' ');
         llm.reset();
         llm.setMode('ok', { reply, chunkDelayMs: 10 }); // 100 chunks, about 100 a second
         const s = await login(server, 'user_5');
         const room = dmId('user_5', MATT);
         const c = await joinRoom(server, room, s);
         const from = c.all.length;
         const t0 = performance.now();
         await c.chat('sing me the chorus');
         const out = await botOutcome(c, MATT, from);
         const elapsedMs = performance.now() - t0; // at least as long as the server was streaming
         assert.equal(out.final.content, reply);
         assert.ok(out.deltas.length >= 2, `${out.deltas.length} deltas`);
         // At most one flush per 100 ms, plus the first and one spare; measured from the client's side, so a slow
         // machine only loosens the bound.
         const bound = Math.ceil(elapsedMs / 100) + 2;
         assert.ok(out.deltas.length <= bound,
                   `${out.deltas.length} chat_delta frames in ${Math.round(elapsedMs)} ms (bound ${bound})`);
         assert.ok(out.deltas.length <= pieces / 3, `${out.deltas.length} deltas for ${pieces} chunks: not coalesced`);
         const streamed = out.deltas.map((d) => d.delta).join('');
         assert.ok(streamed.length > 0 && out.final.content.startsWith(streamed),
                   `the deltas (${JSON.stringify(streamed)}) are not the start of the final text`);
         console.log(`# coalescing: ${pieces} chunks -> ${out.deltas.length} chat_delta frames in ` +
                     `${Math.round(elapsedMs)} ms`);
         await c.close();
       });

    it('sends the persona prompt and the last ai.context_messages room messages, in order, nothing older',
       async () => {
         llm.reset();
         llm.setMode('ok', { reply: 'Indeed, sir.' });
         const dana = await login(server, 'user_6');
         const eli = await login(server, 'user_7');
         const a = await joinRoom(server, 'music', dana);
         const b = await joinRoom(server, 'music', eli);
         const said = [];
         for (let i = 1; i <= 6; i++) {
           const [who, sock] = i % 2 ? ['user_6', a] : ['user_7', b];
           const m = await sock.chat(`context line ${i}`);
           said.push(`${displayNameOf(who)}: ${m.content}`);
         }
         const from = a.all.length;
         const ask = await b.chat('@jeeves what did we just talk about?');
         said.push(`${displayNameOf('user_7')}: ${ask.content}`);
         await botOutcome(a, JEEVES, from);

         assert.equal(llm.requests.length, 1);
         const { messages } = llm.requests[0].body;
         assert.equal(messages[0].role, 'system');
         assert.ok(messages[0].content.includes(persona(JEEVES).systemPrompt));
         // context_messages is 4: lines 4, 5, 6 and the question, merged into one user turn.
         assert.deepEqual(messages.slice(1), [{ role: 'user', content: said.slice(-4).join('\n') }]);
         const all = JSON.stringify(messages);
         for (const old of ['context line 1', 'context line 2', 'context line 3']) {
           assert.ok(!all.includes(old), `"${old}" is older than the window but was sent`);
         }

         // In a DM the bot's own replies are assistant turns, interleaved in order.
         let n = 0;
         llm.reset();
         llm.setMode('ok', { reply: () => `answer number ${++n}` });
         const room = dmId('user_6', JEEVES);
         const d = await joinRoom(server, room, dana);
         for (let i = 1; i <= 4; i++) {
           const at = d.all.length;
           await d.chat(`question ${i}`);
           await botOutcome(d, JEEVES, at);
         }
         assert.equal(llm.requests.length, 4);
         const last = llm.requests[3].body.messages;
         // The room holds q1 a1 q2 a2 q3 a3 q4; the last four are a2 q3 a3 q4, and a2 cannot open the dialogue.
         const name = displayNameOf('user_6');
         assert.deepEqual(last.slice(1), [
           { role: 'user', content: `${name}: question 3` },
           { role: 'assistant', content: 'answer number 3' },
           { role: 'user', content: `${name}: question 4` },
         ]);
         await a.close();
         await b.close();
         await d.close();
       });

    // Once per wire protocol: the stall happens before any byte of the answer, so streaming does not matter.
    it('a reply stalled for 10 s does not slow chat in another room (each round trip under 200 ms)',
       { skip: combo.stream !== (combo.provider === 'openai') && 'covered by the other configuration of this API',
         timeout: 90_000 }, async () => {
         const reply = 'Very good, sir. The answer is forty-two.';
         llm.reset();
         llm.setMode((rec) => (lastTurn(rec).includes('take your time') ? 'stall' : 'ok'),
                     { stallMs: 10_000, reply });
         const pat = await login(server, 'user_8');
         const lee = await login(server, 'user_9');
         const dm = await joinRoom(server, dmId('user_8', JEEVES), pat);
         const ga = await joinRoom(server, 'general', pat);
         const gb = await joinRoom(server, 'general', lee);

         const from = dm.all.length;
         const t0 = Date.now();
         await dm.chat('take your time, Jeeves');
         await waitUntil(() => llm.requests.length === 1, { what: 'the provider call to start' });
         await dm.waitFor('typing', (f) => f.senderId === JEEVES && f.isTyping === true);

         const chatMs = [];
         const httpMs = [];
         for (let i = 0; i < 10; i++) {
           let start = performance.now();
           const echo = await ga.chat(`ping ${i}`);
           chatMs.push(performance.now() - start);
           await gb.waitFor('chat', (f) => f.id === echo.id);
           start = performance.now();
           const res = await api(server, 'GET', '/api/rooms');
           httpMs.push(performance.now() - start);
           assert.equal(res.status, 200);
           await sleep(50);
         }
         const measuredBy = Date.now() - t0;
         assert.ok(measuredBy < 9_000, `the measurements took ${measuredBy} ms, so they did not overlap the stall`);
         assert.deepEqual(dm.all.slice(from).filter((f) => f.type === 'chat' && f.senderId === JEEVES), [],
                          'the stalled reply must still be pending while measuring');
         const fmt = (xs) => xs.map((x) => x.toFixed(1)).join(', ');
         console.log(`# chat round trips during the stall (ms): ${fmt(chatMs)}; HTTP: ${fmt(httpMs)}`);
         assert.ok(Math.max(...chatMs) < 200, `chat round trips (ms): ${fmt(chatMs)}`);
         assert.ok(Math.max(...httpMs) < 200, `HTTP round trips (ms): ${fmt(httpMs)}`);

         // The stalled reply still lands once the provider answers.
         const out = await botOutcome(dm, JEEVES, from, { timeoutMs: 30_000 });
         assert.equal(out.final.content, reply);
         assert.ok(Date.now() - t0 >= 9_500, 'the reply came only after the stall');
         await dm.close();
         await ga.close();
         await gb.close();
       });
  });
}
