// Winks: short full-window animations of our own, drawn with SVG and animated with CSS (see styles.css, .wk-*).
// Each id from /api/config's `winks` maps to a scene; an unknown id gets a generic sparkle scene with its name.
import { html } from '../html.js';

export const WINK_MS = 2800;

const NAMES = { dancing_pig: 'Dancing pig', kiss: 'Big kiss', heart_burst: 'Heart burst', thunder: 'Thunderstorm' };

export function winkName(id) {
  if (NAMES[id]) return NAMES[id];
  const s = String(id || 'wink').replace(/[_-]+/g, ' ').trim();
  return s.charAt(0).toUpperCase() + s.slice(1);
}

const Pig = () => html`<svg viewBox="0 0 100 100" class="wk-svg">
  <path d="M77 58q12-6 8 4-4 6-8-2" fill="none" stroke="#d46a8a" stroke-width="3" stroke-linecap="round"/>
  <rect x="30" y="72" width="8" height="18" rx="3" fill="#f59ab3" stroke="#c8557a" stroke-width="1.5"/>
  <rect x="62" y="72" width="8" height="18" rx="3" fill="#f59ab3" stroke="#c8557a" stroke-width="1.5"/>
  <ellipse cx="50" cy="64" rx="29" ry="20" fill="#ffb6ca" stroke="#c8557a" stroke-width="2"/>
  <path d="M28 18l4 16 12-8zM72 18l-4 16-12-8z" fill="#ff9fbb" stroke="#c8557a" stroke-width="2" stroke-linejoin="round"/>
  <circle cx="50" cy="38" r="20" fill="#ffc2d3" stroke="#c8557a" stroke-width="2"/>
  <ellipse cx="50" cy="44" rx="9" ry="6.5" fill="#ff8fb0" stroke="#c8557a" stroke-width="1.5"/>
  <ellipse cx="46.5" cy="44" rx="1.8" ry="2.6" fill="#8a2f4f"/><ellipse cx="53.5" cy="44" rx="1.8" ry="2.6" fill="#8a2f4f"/>
  <circle cx="42" cy="33" r="2.6" fill="#2a1020"/><circle cx="58" cy="33" r="2.6" fill="#2a1020"/>
  <circle cx="42.8" cy="32.2" r=".9" fill="#fff"/><circle cx="58.8" cy="32.2" r=".9" fill="#fff"/>
  <path d="M44 52q6 4 12 0" stroke="#8a2f4f" stroke-width="1.8" fill="none" stroke-linecap="round"/>
  <path d="M38 20l12-18 12 18z" fill="#3d7bff" stroke="#1d3f9a" stroke-width="1.5"/><circle cx="50" cy="3" r="3.5" fill="#ffd83b"/>
  <path d="M42 14l4-1M50 10l4 1M46 18l6-1" stroke="#ffd83b" stroke-width="2" stroke-linecap="round"/>
</svg>`;

const Note = ({ cls }) => html`<svg viewBox="0 0 20 30" class=${cls}>
  <path d="M14 2v20" stroke="#5a2ea6" stroke-width="2.2"/><path d="M14 2q6 3 5 10-2-5-5-5" fill="#5a2ea6"/>
  <ellipse cx="9.5" cy="23" rx="5.5" ry="4" fill="#7b3fe4" transform="rotate(-20 9.5 23)"/></svg>`;

const Lips = ({ cls }) => html`<svg viewBox="0 0 100 60" class=${cls}>
  <path d="M4 30Q18 6 37 12q9 3 13 9 4-6 13-9 19-6 33 18-46-3-92 0z" fill="#e3163f" stroke="#8d0522" stroke-width="2" stroke-linejoin="round"/>
  <path d="M4 30q46 5 92 0-14 28-46 28T4 30z" fill="#f2284f" stroke="#8d0522" stroke-width="2" stroke-linejoin="round"/>
  <path d="M8 30q42 3 84 0" stroke="#6d0016" stroke-width="2.5" fill="none"/>
  <ellipse cx="36" cy="44" rx="12" ry="3.5" fill="#fff" opacity=".45"/><ellipse cx="30" cy="19" rx="7" ry="2.2" fill="#fff" opacity=".4"/>
</svg>`;

const Heart = ({ cls, color = '#ff2d55' }) => html`<svg viewBox="0 0 40 36" class=${cls}>
  <path d="M20 34S2 23 2 11A9 9 0 0 1 20 7a9 9 0 0 1 18 4c0 12-18 23-18 23z" fill=${color} stroke="#8c0018" stroke-width="1.5"/>
  <ellipse cx="11" cy="11" rx="4" ry="2.4" fill="#fff" opacity=".55" transform="rotate(-30 11 11)"/></svg>`;

const Bolt = ({ cls }) => html`<svg viewBox="0 0 60 100" class=${cls}>
  <path d="M34 2 8 54h20L18 98l36-60H32L46 2z" fill="#ffe445" stroke="#c78a00" stroke-width="2.5" stroke-linejoin="round"/></svg>`;

const Cloud = ({ cls }) => html`<svg viewBox="0 0 120 64" class=${cls}>
  <path d="M22 56a18 18 0 0 1 4-35 26 26 0 0 1 48-6 20 20 0 0 1 26 18 14 14 0 0 1-4 23z" fill="#3c4352" stroke="#22262f" stroke-width="2" stroke-linejoin="round"/>
  <path d="M30 30a22 22 0 0 1 40-12" stroke="#6b7486" stroke-width="3" fill="none" stroke-linecap="round"/></svg>`;

const Star = ({ cls, color = '#ffd83b' }) => html`<svg viewBox="0 0 20 20" class=${cls}>
  <path d="M10 1l2.6 5.6 6 .7-4.5 4.1 1.2 6L10 14.4l-5.3 3 1.2-6L1.4 7.3l6-.7z" fill=${color} stroke="#b87900" stroke-width=".8"/></svg>`;

const BURST = Array.from({ length: 14 }, (_, i) => {
  const a = (i / 14) * Math.PI * 2;
  const r = 120 + (i % 3) * 40;
  return { dx: `${Math.round(Math.cos(a) * r)}px`, dy: `${Math.round(Math.sin(a) * r)}px`, rot: `${(i * 47) % 90 - 45}deg` };
});
const BURST_COLORS = ['#ff2d55', '#ff7aa2', '#ff4f7b', '#ffa3c0'];

function Scene({ winkId }) {
  switch (winkId) {
    case 'dancing_pig':
      return html`<div class="wk-scene wk-disco">
        <div class="wk-lights"></div>
        <div class="wk-floor"></div>
        <div class="wk-pig"><${Pig} /></div>
        <${Note} cls="wk-note n1" /><${Note} cls="wk-note n2" /><${Note} cls="wk-note n3" /><${Note} cls="wk-note n4" />
      </div>`;
    case 'kiss':
      return html`<div class="wk-scene wk-kissbg">
        <${Lips} cls="wk-lips-big" />
        ${[0, 1, 2, 3, 4, 5].map((i) => html`<${Lips} cls=${`wk-lips-small s${i}`} />`)}
        <div class="wk-caption">Mwah!</div>
      </div>`;
    case 'heart_burst':
      return html`<div class="wk-scene wk-heartbg">
        <${Heart} cls="wk-heart-big" />
        ${BURST.map(
          (b, i) => html`<div class="wk-heart-bit" style=${{ '--dx': b.dx, '--dy': b.dy, '--rot': b.rot }}>
            <${Heart} color=${BURST_COLORS[i % BURST_COLORS.length]} />
          </div>`,
        )}
      </div>`;
    case 'thunder':
      return html`<div class="wk-scene wk-storm">
        <div class="wk-rain"></div>
        <${Cloud} cls="wk-cloud c1" /><${Cloud} cls="wk-cloud c2" />
        <${Bolt} cls="wk-bolt b1" /><${Bolt} cls="wk-bolt b2" />
        <div class="wk-flash"></div>
      </div>`;
    default:
      return html`<div class="wk-scene wk-sparkle">
        ${[0, 1, 2, 3, 4, 5, 6, 7].map((i) => html`<${Star} cls=${`wk-star t${i}`} color=${i % 2 ? '#8fd3ff' : '#ffd83b'} />`)}
        <div class="wk-caption wk-generic">${winkName(winkId)}</div>
      </div>`;
  }
}

// The overlay that plays over a conversation window; the parent removes it after WINK_MS.
export function WinkOverlay({ winkId }) {
  return html`<div class="wink-overlay" data-testid="wink-overlay" data-wink=${winkId} aria-hidden="true">
    <${Scene} winkId=${winkId} />
  </div>`;
}

// A still picture of a wink, for the picker and the "sent a wink" line.
export function WinkThumb({ winkId }) {
  let art;
  switch (winkId) {
    case 'dancing_pig':
      art = html`<${Pig} />`;
      break;
    case 'kiss':
      art = html`<${Lips} cls="wk-svg" />`;
      break;
    case 'heart_burst':
      art = html`<${Heart} cls="wk-svg" />`;
      break;
    case 'thunder':
      art = html`<${Bolt} cls="wk-svg" />`;
      break;
    default:
      art = html`<${Star} cls="wk-svg" />`;
  }
  return html`<span class=${`wink-thumb wt-${winkId}`} aria-hidden="true">${art}</span>`;
}
