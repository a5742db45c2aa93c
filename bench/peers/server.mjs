// Baseline broadcast server for the fan-out comparison in docs/performance.md. It speaks only what
// switchboard-loadgen's fanout scenario needs: POST /api/auth/login {username} -> {success, data: {sessionId, user}},
// and /api/ws/room/<id>?sessionId= where each `chat` frame becomes a Message broadcast (serialized once) to every
// socket of the room, sender included. No validation, rate limits or history: it is the floor to compare against.
// Usage: node server.mjs [--port N] [--port-file PATH]   (port 0, the default, picks a free port)
import crypto from 'node:crypto';
import fs from 'node:fs';
import http from 'node:http';
import { WebSocketServer } from 'ws';

const args = process.argv.slice(2);
const arg = (name, def) => {
  const i = args.indexOf(`--${name}`);
  return i >= 0 && i + 1 < args.length ? args[i + 1] : def;
};

const sessions = new Map(); // sessionId -> user
const rooms = new Map(); // roomId -> Set<WebSocket>

const send = (res, status, body) => {
  const text = JSON.stringify(body);
  res.writeHead(status, { 'Content-Type': 'application/json', 'Content-Length': Buffer.byteLength(text) });
  res.end(text);
};

const server = http.createServer((req, res) => {
  if (req.method !== 'POST' || req.url !== '/api/auth/login') {
    send(res, 404, { success: false, error: { code: 'NOT_FOUND', message: 'Only POST /api/auth/login here.' } });
    return;
  }
  let body = '';
  req.on('data', (chunk) => { body += chunk; });
  req.on('end', () => {
    let username;
    try {
      username = JSON.parse(body).username;
    } catch {
      username = undefined;
    }
    if (typeof username !== 'string' || !username) {
      send(res, 400, { success: false, error: { code: 'VALIDATION_FAILED', message: 'Send {"username": "..."}.' } });
      return;
    }
    const user = { id: `guest_${username.toLowerCase()}`, displayName: username };
    const sessionId = crypto.randomBytes(24).toString('base64url');
    sessions.set(sessionId, user);
    send(res, 200, { success: true, data: { sessionId, user, expiresAt: Date.now() + 1_200_000 } });
  });
});

const wss = new WebSocketServer({ noServer: true, perMessageDeflate: false });
server.on('upgrade', (req, socket, head) => {
  const url = new URL(req.url, 'http://localhost');
  const match = /^\/api\/ws\/room\/([A-Za-z0-9_-]{1,64})$/.exec(url.pathname);
  const user = sessions.get(url.searchParams.get('sessionId') || '');
  if (!match || !user) {
    socket.end('HTTP/1.1 401 Unauthorized\r\nContent-Length: 0\r\n\r\n');
    return;
  }
  wss.handleUpgrade(req, socket, head, (ws) => {
    const roomId = match[1];
    if (!rooms.has(roomId)) rooms.set(roomId, new Set());
    const members = rooms.get(roomId);
    members.add(ws);
    ws.send(JSON.stringify({ type: 'system', content: 'Connected to ChatRoom', roomId, timestamp: Date.now() }));
    ws.on('message', (data) => {
      let frame;
      try {
        frame = JSON.parse(data);
      } catch {
        return;
      }
      if (frame.type !== 'chat' || typeof frame.content !== 'string') return;
      const text = JSON.stringify({
        id: crypto.randomUUID(), roomId, senderId: user.id, displayName: user.displayName, content: frame.content,
        timestamp: Date.now(), isNudge: false, isWink: false, type: 'chat',
      });
      for (const peer of members) peer.send(text);
    });
    ws.on('close', () => members.delete(ws));
  });
});

server.listen(Number(arg('port', '0')), '127.0.0.1', () => {
  const { port } = server.address();
  const portFile = arg('port-file', '');
  if (portFile) fs.writeFileSync(portFile, String(port));
  console.log(`baseline listening on 127.0.0.1:${port}`);
});
