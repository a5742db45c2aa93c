// Toolbar icons: plain inline SVG with solid fills (no ids), so any number can share a page.
import { html } from '../html.js';

export const SpeakerIcon = ({ on }) => html`<svg class="ico" viewBox="0 0 16 16" aria-hidden="true">
  <path d="M2 6h3l4-3v10l-4-3H2z" fill="#4a6fb5" stroke="#1d3f7a" stroke-width=".8" stroke-linejoin="round"/>
  ${on
    ? html`<path d="M11 5.5q1.5 2.5 0 5M12.8 4q2.6 4 0 8" stroke="#1d3f7a" stroke-width="1.2" fill="none" stroke-linecap="round"/>`
    : html`<path d="M11 6l4 4m0-4-4 4" stroke="#c62020" stroke-width="1.4" stroke-linecap="round"/>`}
</svg>`;

export const NudgeIcon = () => html`<svg class="ico ico-lg" viewBox="0 0 24 24" aria-hidden="true">
  <rect x="6" y="4" width="12" height="16" rx="2" fill="#ffd83b" stroke="#a86a00"/>
  <path d="M9 9h6M9 12h6M9 15h4" stroke="#a86a00" stroke-width="1.2"/>
  <path d="M2 8q-1.5 4 0 8M4 9.5q-1 2.5 0 5M22 8q1.5 4 0 8M20 9.5q1 2.5 0 5" stroke="#e05a00" stroke-width="1.4" fill="none" stroke-linecap="round"/>
</svg>`;

export const WinkIcon = () => html`<svg class="ico ico-lg" viewBox="0 0 24 24" aria-hidden="true">
  <circle cx="12" cy="12" r="9.5" fill="#ffd83b" stroke="#a86a00"/>
  <path d="M7 10q1.5-1.5 3 0" stroke="#3a2200" stroke-width="1.3" fill="none" stroke-linecap="round"/>
  <ellipse cx="15.5" cy="9.5" rx="1.2" ry="1.7" fill="#3a2200"/>
  <path d="M7 14q5 5 10 0" stroke="#3a2200" stroke-width="1.4" fill="none" stroke-linecap="round"/>
  <path d="M19 2l.8 1.8 1.9.3-1.4 1.3.4 1.9L19 6.4l-1.7.9.4-1.9-1.4-1.3 1.9-.3z" fill="#ff5fa2"/>
</svg>`;

export const SmileIcon = () => html`<svg class="ico ico-lg" viewBox="0 0 24 24" aria-hidden="true">
  <circle cx="12" cy="12" r="9.5" fill="#ffd83b" stroke="#a86a00"/>
  <ellipse cx="8.5" cy="9.5" rx="1.2" ry="1.7" fill="#3a2200"/><ellipse cx="15.5" cy="9.5" rx="1.2" ry="1.7" fill="#3a2200"/>
  <path d="M7 14q5 5 10 0" stroke="#3a2200" stroke-width="1.4" fill="none" stroke-linecap="round"/>
</svg>`;

export const PeopleIcon = () => html`<svg class="ico ico-lg" viewBox="0 0 24 24" aria-hidden="true">
  <circle cx="8.5" cy="7.5" r="3.5" fill="#3d8ef0" stroke="#0b3a8c" stroke-width=".8"/><path d="M2 20q0-7 6.5-7t6.5 7z" fill="#3d8ef0" stroke="#0b3a8c" stroke-width=".8"/>
  <circle cx="16" cy="8.5" r="3.2" fill="#5cc83a" stroke="#1d6b12" stroke-width=".8"/><path d="M10.5 21q0-6.5 5.5-6.5t5.5 6.5z" fill="#5cc83a" stroke="#1d6b12" stroke-width=".8"/>
</svg>`;

export const InfoIcon = () => html`<svg class="ico ico-sys" viewBox="0 0 12 12" aria-hidden="true">
  <circle cx="6" cy="6" r="5.5" fill="#3d7fe0"/><path d="M6 5v4" stroke="#fff" stroke-width="1.4"/><circle cx="6" cy="3.2" r=".9" fill="#fff"/>
</svg>`;

export const WarnIcon = () => html`<svg class="ico ico-sys" viewBox="0 0 12 12" aria-hidden="true">
  <path d="M6 .8 11.4 11H.6z" fill="#ffcc1a" stroke="#a87900" stroke-width=".8" stroke-linejoin="round"/><path d="M6 4.2v3.6" stroke="#222" stroke-width="1.3"/><circle cx="6" cy="9.4" r=".8" fill="#222"/>
</svg>`;

export const BotIcon = () => html`<svg class="ico" viewBox="0 0 16 16" aria-hidden="true">
  <rect x="3" y="4" width="10" height="9" rx="2" fill="#9db3c8" stroke="#4f5e6d"/><circle cx="6.5" cy="8" r="1.3" fill="#39e0ff"/><circle cx="9.5" cy="8" r="1.3" fill="#39e0ff"/>
  <path d="M8 1.5V4" stroke="#4f5e6d"/><circle cx="8" cy="1.5" r="1" fill="#ff4a4a"/>
</svg>`;
