// Small shared pieces: display pictures, status dots, emoticon-aware text, the logo, the connection indicator.
import { html } from '../html.js';
import { avatarUrl } from '../art/avatars.js';
import { parseEmoticons } from '../art/emoticons.js';
import { statusText } from '../session.js';

export function Avatar({ id, size = 48, status, testid, frame = true }) {
  const img = html`<img class="avatar-img" src=${avatarUrl(id)} width=${size} height=${size} alt="" draggable="false" />`;
  if (!frame) return img;
  return html`<span class=${`avatar-frame status-${status || 'none'}`} style=${{ width: `${size + 8}px`, height: `${size + 8}px` }}
    data-testid=${testid}>${img}</span>`;
}

export function StatusDot({ status, title }) {
  const s = status || 'offline';
  return html`<span class=${`status-dot sd-${s}`} title=${title || statusText(s)} role="img" aria-label=${title || statusText(s)}></span>`;
}

// User text with emoticon codes turned into pictures. Text stays text nodes; pictures are <img> with alt=code.
export function RichText({ text }) {
  const parts = parseEmoticons(String(text ?? ''));
  return parts.map((p) =>
    p.text !== undefined
      ? p.text
      : html`<img class="emoticon" src=${p.emoticon.url} alt=${p.code} title=${`${p.emoticon.name} ${p.code}`} data-testid="emoticon" width="19" height="19" />`,
  );
}

const LOGO_SVG = `<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 64 64"><defs><linearGradient id="a" x1="0" y1="0" x2="0" y2="1"><stop offset="0" stop-color="#8ccaff"/><stop offset=".5" stop-color="#3d8ef0"/><stop offset="1" stop-color="#1550c0"/></linearGradient><linearGradient id="b" x1="0" y1="0" x2="0" y2="1"><stop offset="0" stop-color="#b8f08a"/><stop offset=".5" stop-color="#5cc83a"/><stop offset="1" stop-color="#2a8f1a"/></linearGradient></defs><path d="M6 12a8 8 0 0 1 8-8h22a8 8 0 0 1 8 8v13a8 8 0 0 1-8 8H23l-10 8v-8h1a8 8 0 0 1-8-8z" fill="url(#a)" stroke="#0b3a8c" stroke-width="2"/><path d="M20 30a8 8 0 0 1 8-8h22a8 8 0 0 1 8 8v12a8 8 0 0 1-8 8v9l-10-9H28a8 8 0 0 1-8-8z" fill="url(#b)" stroke="#1d6b12" stroke-width="2"/><circle cx="31" cy="36" r="2.8" fill="#fff"/><circle cx="39" cy="36" r="2.8" fill="#fff"/><circle cx="47" cy="36" r="2.8" fill="#fff"/><path d="M12 10q4-3 10-3" stroke="#fff" stroke-width="2.5" stroke-linecap="round" opacity=".6" fill="none"/></svg>`;
export const LOGO_URL = `data:image/svg+xml;charset=utf-8,${encodeURIComponent(LOGO_SVG)}`;

export function Logo({ size = 32 }) {
  return html`<img class="logo" src=${LOGO_URL} width=${size} height=${size} alt="" />`;
}

const CONN_TEXT = {
  connected: 'Connected',
  connecting: 'Connecting…',
  reconnecting: 'Reconnecting…',
  offline: 'Offline — retrying',
  closed: 'Disconnected',
};

export function ConnIndicator({ conn, testid = 'connection-state', compact = false }) {
  const s = conn || 'connecting';
  return html`<span class=${`conn conn-${s}`} data-testid=${testid} data-state=${s} role="status" title=${CONN_TEXT[s]}>
    <span class="conn-dot"></span>${compact ? null : html`<span class="conn-text">${CONN_TEXT[s]}</span>`}
  </span>`;
}

export function formatTime(ts) {
  try {
    return new Date(ts).toLocaleTimeString([], { hour: 'numeric', minute: '2-digit' });
  } catch {
    return '';
  }
}

export function formatFull(ts) {
  try {
    return new Date(ts).toLocaleString();
  } catch {
    return '';
  }
}
