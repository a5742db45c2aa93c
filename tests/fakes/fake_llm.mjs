#!/usr/bin/env node
// A fake LLM provider on loopback for Switchboard's tests. It speaks both wire protocols the server uses:
//   Workers AI REST:      POST /client/v4/accounts/<account>/ai/run/<model>   ({result:{response}, success, errors})
//   OpenAI-compatible:    POST [/...]/v1/chat/completions                      ({choices:[{message:{content}}]})
// with and without `stream: true` (server-sent events ending in `data: [DONE]`), and misbehaves on request.
//
// Modes: ok, http_500, http_429, malformed_json, empty_reply, stall (answers only after stallMs), cut_stream (closes
// the connection mid-answer), slow (long pauses between chunks).
//
// Module:  const llm = await startFakeLlm({mode: 'ok'});  llm.url, llm.port, llm.workersAiBaseUrl, llm.requests,
//          llm.setMode(mode | (request) => mode, {reply, stallMs, chunkDelayMs, slowChunkDelayMs}), llm.close()
// CLI:     node tests/fakes/fake_llm.mjs --port 0 [--mode ok] [--api-key K] [--reply TEXT] [--stall-ms N]
//          prints "listening <port>" on stdout.
// Control over HTTP (for tests that only have the CLI): POST /_control/mode {"mode", "reply"?, "stallMs"?, ...},
// GET /_control/requests, POST /_control/reset.
//
// Every request is recorded with its method, path, headers (Authorization included: tests check it) and parsed body.
// Plain Node, no dependencies.
import http from 'node:http';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

export const MODES = ['ok', 'http_500', 'http_429', 'malformed_json', 'empty_reply', 'stall', 'cut_stream', 'slow'];

const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));

// The reply the fake "model" writes: by default it quotes the last user turn, so tests can see what it was given.
function defaultReply(body) {
  const messages = Array.isArray(body?.messages) ? body.messages : [];
  const lastUser = [...messages].reverse().find((m) => m && m.role === 'user');
  const said = typeof lastUser?.content === 'string' ? lastUser.content.split('\n').pop() : '';
  return `Fake model here. You said: ${said.slice(0, 120)}`;
}

// Splits text into word-sized pieces, spaces kept, as a tokenizer would stream them.
function pieces(text) {
  const out = text.match(/\S+\s*|\s+/g) ?? [];
  return out.length ? out : [''];
}

function classify(urlPath) {
  if (/\/accounts\/[^/]+\/ai\/run\/.+/.test(urlPath)) return 'workers-ai';
  if (/\/chat\/completions$/.test(urlPath)) return 'openai';
  return null;
}

function errorBody(api, status, message) {
  if (api === 'workers-ai') {
    return { result: null, success: false, errors: [{ code: status === 429 ? 3040 : 3043, message }], messages: [] };
  }
  return { error: { message, type: status === 429 ? 'rate_limit_exceeded' : 'server_error', code: status } };
}

function fullBody(api, text, model) {
  if (api === 'workers-ai') return { result: { response: text }, success: true, errors: [], messages: [] };
  return {
    id: 'chatcmpl-fake',
    object: 'chat.completion',
    created: Math.floor(Date.now() / 1000),
    model: model ?? 'fake',
    choices: [{ index: 0, message: { role: 'assistant', content: text }, finish_reason: 'stop' }],
    usage: { prompt_tokens: 1, completion_tokens: 1, total_tokens: 2 },
  };
}

function deltaEvent(api, piece, model) {
  if (api === 'workers-ai') return { response: piece, p: 'abcdefgh' };
  return {
    id: 'chatcmpl-fake',
    object: 'chat.completion.chunk',
    created: Math.floor(Date.now() / 1000),
    model: model ?? 'fake',
    choices: [{ index: 0, delta: { content: piece }, finish_reason: null }],
  };
}

function finishEvent(api, model) {
  if (api === 'workers-ai') return { response: '', usage: { prompt_tokens: 1, completion_tokens: 1, total_tokens: 2 } };
  return {
    id: 'chatcmpl-fake',
    object: 'chat.completion.chunk',
    created: Math.floor(Date.now() / 1000),
    model: model ?? 'fake',
    choices: [{ index: 0, delta: {}, finish_reason: 'stop' }],
  };
}

export async function startFakeLlm(options = {}) {
  const settings = {
    mode: options.mode ?? 'ok',
    reply: options.reply ?? null, // string, or (body) => string
    apiKey: options.apiKey ?? null, // when set, requests must carry "Authorization: Bearer <apiKey>"
    chunkDelayMs: options.chunkDelayMs ?? 15,
    slowChunkDelayMs: options.slowChunkDelayMs ?? 400,
    stallMs: options.stallMs ?? 30000,
  };
  const requests = [];
  const sockets = new Set();
  const timers = new Set();
  let closed = false;

  const wait = (ms) =>
    new Promise((resolve) => {
      const t = setTimeout(() => {
        timers.delete(t);
        resolve();
      }, ms);
      timers.add(t);
    });

  const setMode = (mode, extra = {}) => {
    if (typeof mode !== 'function' && !MODES.includes(mode)) throw new Error(`unknown fake LLM mode: ${mode}`);
    settings.mode = mode;
    for (const key of ['reply', 'chunkDelayMs', 'slowChunkDelayMs', 'stallMs', 'apiKey']) {
      if (key in extra) settings[key] = extra[key];
    }
  };

  const send = (res, status, body, headers = {}) => {
    const text = typeof body === 'string' ? body : JSON.stringify(body);
    res.writeHead(status, { 'Content-Type': 'application/json', 'Content-Length': Buffer.byteLength(text), ...headers });
    res.end(text);
  };

  async function control(req, res, urlPath, raw) {
    if (req.method === 'GET' && urlPath === '/_control/requests') return send(res, 200, requests);
    if (req.method === 'POST' && urlPath === '/_control/reset') {
      requests.length = 0;
      return send(res, 200, { ok: true });
    }
    if (req.method === 'POST' && urlPath === '/_control/mode') {
      try {
        const body = JSON.parse(raw || '{}');
        const { mode, ...extra } = body;
        setMode(mode ?? settings.mode, extra);
        return send(res, 200, { ok: true, mode: settings.mode });
      } catch (e) {
        return send(res, 400, { error: String(e.message ?? e) });
      }
    }
    return send(res, 404, { error: 'unknown control path' });
  }

  async function handle(req, res) {
    const chunks = [];
    for await (const c of req) chunks.push(c);
    const raw = Buffer.concat(chunks).toString('utf8');
    const urlPath = new URL(req.url, 'http://fake').pathname;
    if (urlPath.startsWith('/_control/')) return control(req, res, urlPath, raw);

    let body = null;
    try {
      body = raw ? JSON.parse(raw) : null;
    } catch {
      body = null;
    }
    const api = classify(urlPath);
    const record = { method: req.method, path: urlPath, api, headers: { ...req.headers }, body, raw, at: Date.now() };
    requests.push(record);

    if (req.method !== 'POST' || !api) return send(res, 404, { error: `no route for ${req.method} ${urlPath}` });
    if (body === null || typeof body !== 'object') return send(res, 400, errorBody(api, 400, 'the body is not JSON'));
    if (settings.apiKey && req.headers.authorization !== `Bearer ${settings.apiKey}`) {
      return send(res, 401, errorBody(api, 401, 'Authentication error'));
    }

    const mode = typeof settings.mode === 'function' ? settings.mode(record) : settings.mode;
    record.mode = mode;
    const stream = body.stream === true;
    const model = body.model;
    let text = typeof settings.reply === 'function' ? settings.reply(body, record) : settings.reply;
    if (text === null || text === undefined) text = defaultReply(body);
    if (mode === 'empty_reply') text = '';

    if (mode === 'http_500') return send(res, 500, errorBody(api, 500, 'Internal server error (fake)'));
    if (mode === 'http_429') {
      return send(res, 429, errorBody(api, 429, 'Too many requests (fake)'), { 'Retry-After': '1' });
    }
    if (mode === 'stall') {
      await wait(settings.stallMs);
      if (closed || res.destroyed) return;
    }

    if (!stream) {
      if (mode === 'malformed_json') {
        res.writeHead(200, { 'Content-Type': 'application/json' });
        return res.end('{"result": {"response": "half a docu');
      }
      if (mode === 'cut_stream') {
        const full = JSON.stringify(fullBody(api, text, model));
        res.writeHead(200, { 'Content-Type': 'application/json', 'Content-Length': Buffer.byteLength(full) });
        res.write(full.slice(0, Math.floor(full.length / 2)));
        await wait(settings.chunkDelayMs);
        return res.destroy();
      }
      if (mode === 'slow') await wait(settings.slowChunkDelayMs);
      return send(res, 200, fullBody(api, text, model));
    }

    res.writeHead(200, { 'Content-Type': 'text/event-stream', 'Cache-Control': 'no-cache', Connection: 'keep-alive' });
    const event = (obj) => res.write(`data: ${typeof obj === 'string' ? obj : JSON.stringify(obj)}\n\n`);
    if (api === 'openai') {
      event({
        id: 'chatcmpl-fake',
        object: 'chat.completion.chunk',
        created: Math.floor(Date.now() / 1000),
        model: model ?? 'fake',
        choices: [{ index: 0, delta: { role: 'assistant', content: '' }, finish_reason: null }],
      });
    }
    const parts = text ? pieces(text) : [];
    const delay = mode === 'slow' ? settings.slowChunkDelayMs : settings.chunkDelayMs;
    for (let i = 0; i < parts.length; i++) {
      if (closed || res.destroyed) return;
      if (mode === 'cut_stream' && i >= Math.max(1, Math.floor(parts.length / 2))) {
        return res.destroy(); // mid-answer, before [DONE]
      }
      if (mode === 'malformed_json' && i === 1) {
        res.write('data: {"response": oops not json\n\n');
        await wait(delay);
        return res.end();
      }
      event(deltaEvent(api, parts[i], model));
      await wait(delay);
    }
    if (closed || res.destroyed) return;
    if (mode === 'cut_stream' || mode === 'malformed_json') {
      // Too short to cut mid-way or to corrupt after one good event: do it now.
      if (mode === 'malformed_json') res.write('data: {not json\n\n');
      return mode === 'cut_stream' ? res.destroy() : res.end();
    }
    event(finishEvent(api, model));
    event('[DONE]');
    res.end();
  }

  const server = http.createServer((req, res) => {
    handle(req, res).catch((err) => {
      if (!res.headersSent) send(res, 500, { error: String(err?.message ?? err) });
      else res.destroy();
    });
  });
  server.keepAliveTimeout = 5000;
  server.on('connection', (socket) => {
    sockets.add(socket);
    socket.on('close', () => sockets.delete(socket));
  });
  await new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.port ?? 0, options.host ?? '127.0.0.1', resolve);
  });
  const { port } = server.address();
  const url = `http://127.0.0.1:${port}`;

  return {
    port,
    url, // base for the OpenAI provider (ai.base_url)
    workersAiBaseUrl: `${url}/client/v4`, // base for the Workers AI provider (ai.base_url)
    requests,
    setMode,
    get mode() {
      return settings.mode;
    },
    reset() {
      requests.length = 0;
    },
    async close() {
      closed = true;
      for (const t of timers) clearTimeout(t);
      timers.clear();
      for (const s of sockets) s.destroy();
      await new Promise((resolve) => server.close(() => resolve()));
    },
  };
}

function parseArgs(argv) {
  const args = {};
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    if (!a.startsWith('--')) continue;
    const key = a.slice(2).replace(/-([a-z])/g, (_, c) => c.toUpperCase());
    const next = argv[i + 1];
    if (next === undefined || next.startsWith('--')) {
      args[key] = true;
    } else {
      args[key] = next;
      i++;
    }
  }
  return args;
}

const isMain = process.argv[1] && path.resolve(process.argv[1]) === fileURLToPath(import.meta.url);
if (isMain) {
  const args = parseArgs(process.argv.slice(2));
  const num = (v) => (v === undefined ? undefined : Number(v));
  const llm = await startFakeLlm({
    port: num(args.port) ?? 0,
    mode: args.mode ?? 'ok',
    apiKey: args.apiKey ?? null,
    reply: args.reply ?? null,
    stallMs: num(args.stallMs),
    chunkDelayMs: num(args.chunkDelayMs),
    slowChunkDelayMs: num(args.slowChunkDelayMs),
  });
  process.stdout.write(`listening ${llm.port}\n`);
  const stop = async () => {
    await llm.close();
    process.exit(0);
  };
  process.on('SIGTERM', stop);
  process.on('SIGINT', stop);
}
