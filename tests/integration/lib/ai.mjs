// Shared pieces of the AI suites (ai.test.mjs, ai_failures.test.mjs): server config that points `ai` at the fake
// provider (tests/fakes/fake_llm.mjs), DM ids, and a collector for one bot reply as a room socket sees it.
import { api, expectOk, personas, sleep, waitUntil } from './harness.mjs';

export { startFakeLlm } from '../../fakes/fake_llm.mjs';

/** The four ways the server talks to a provider: two wire protocols, each streamed or not. */
export const COMBOS = [
  { provider: 'workers-ai', stream: true },
  { provider: 'workers-ai', stream: false },
  { provider: 'openai', stream: true },
  { provider: 'openai', stream: false },
];
export const comboName = ({ provider, stream }) => `${provider}, ${stream ? 'streaming' : 'non-streaming'}`;

// Test values, not secrets: the fake checks the bearer token so the tests see the key is sent.
export const API_KEY = 'it-test-key';
export const ACCOUNT_ID = 'it-account';
export const OPENAI_MODEL = 'it-model';
export const WORKERS_MODEL = '@cf/meta/llama-3.2-1b-instruct';

/** Config keys that point the server's `ai` section at the fake `llm` (see startFakeLlm). */
export function aiConfig(llm, { provider, stream }, extra = {}) {
  const common = { 'ai.enabled': true, 'ai.provider': provider, 'ai.api_key': API_KEY, 'ai.stream': stream };
  const specific = provider === 'workers-ai'
    ? { 'ai.base_url': llm.workersAiBaseUrl, 'ai.account_id': ACCOUNT_ID, 'ai.model': WORKERS_MODEL }
    : { 'ai.base_url': llm.url, 'ai.model': OPENAI_MODEL };
  // Rooms' own rate limits are covered elsewhere; here they would only slow the tests down.
  return { 'chat.rate_limit_messages': 100000, 'chat.min_chat_interval_ms': 0, ...common, ...specific, ...extra };
}

/** The URL path the fake should see for a provider. */
export function expectedPath(provider) {
  return provider === 'workers-ai' ? `/client/v4/accounts/${ACCOUNT_ID}/ai/run/${WORKERS_MODEL}` : '/v1/chat/completions';
}

/** PROTOCOL §2: dm_<a>__<b> with the two ids in byte order. */
export function dmId(a, b) {
  const [x, y] = [a, b].sort((p, q) => Buffer.compare(Buffer.from(p), Buffer.from(q)));
  return `dm_${x}__${y}`;
}

/** A persona from config/personas.json by bot id. */
export function persona(botId) {
  const p = personas().find((x) => x.id === botId);
  if (!p) throw new Error(`no persona ${botId} in config/personas.json`);
  return p;
}

/** The content of a recorded request's last turn (what the bot was asked to answer). */
export const lastTurn = (record) => record.body?.messages?.at(-1)?.content ?? '';

/**
 * Waits for the outcome of one bot reply in `client`'s room: the bot's final `chat` (or, with `kind: 'system'`, its
 * system Message) and the typing indicator going back to false. `from` is client.all.length before the trigger was
 * sent. Returns {final, deltas, typing, frames}: the bot's frames from `from` on, in arrival order.
 */
export async function botOutcome(client, botId, from, { kind = 'chat', timeoutMs = 20_000 } = {}) {
  const mine = () => client.all.slice(from).filter((f) => f.senderId === botId);
  const final = await waitUntil(() => mine().find((f) => f.type === kind && !f.__raw),
                                { timeoutMs, what: `a ${kind} message from ${botId}`, intervalMs: 20 });
  // The typing frame that clears the indicator is sent next to the final message, in either order.
  await waitUntil(() => mine().some((f) => f.type === 'typing' && f.isTyping === false),
                  { timeoutMs: 5_000, what: `typing:false from ${botId}`, intervalMs: 20 });
  const frames = mine();
  return {
    final,
    frames,
    deltas: frames.filter((f) => f.type === 'chat_delta'),
    typing: frames.filter((f) => f.type === 'typing'),
  };
}

/**
 * After a reply has settled, waits a little and asserts the bot's typing indicator ended false (no refresh of
 * `isTyping:true` arrived after it was cleared).
 */
export async function expectTypingCleared(client, botId, from, settleMs = 600) {
  await sleep(settleMs);
  const typing = client.all.slice(from).filter((f) => f.type === 'typing' && f.senderId === botId);
  if (!typing.length || typing.at(-1).isTyping !== false) {
    throw new Error(`the typing indicator of ${botId} was not left cleared: ${JSON.stringify(typing)}`);
  }
}

/** GET /api/rooms/:id/messages as `session`; returns the Message array. */
export async function history(server, session, roomId, limit = 100) {
  return expectOk(await api(server, 'GET', `/api/rooms/${roomId}/messages?limit=${limit}`, { token: session.sessionId }));
}

/** Waits until the server log contains `needle` (a string or RegExp); returns the log text. */
export function waitForLog(server, needle, timeoutMs = 10_000) {
  const test = (text) => (typeof needle === 'string' ? text.includes(needle) : needle.test(text));
  return waitUntil(() => { const t = server.logs(); return test(t) ? t : null; },
                   { timeoutMs, what: `server log line ${needle}` });
}

/** A free loopback port with nothing listening on it (for "connection refused"). */
export async function closedPort() {
  const net = await import('node:net');
  const srv = net.createServer();
  await new Promise((resolve) => srv.listen(0, '127.0.0.1', resolve));
  const { port } = srv.address();
  await new Promise((resolve) => srv.close(resolve));
  return port;
}
