// Display pictures, drawn as small SVGs of our own. Each is served as a data: URL inside an <img>, so every
// picture is its own document (gradient ids cannot clash) and nothing user-supplied is ever part of the markup.

const wrap = (top, bottom, body) =>
  `<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 64 64"><defs><linearGradient id="bg" x1="0" y1="0" x2="0" y2="1"><stop offset="0" stop-color="${top}"/><stop offset="1" stop-color="${bottom}"/></linearGradient><radialGradient id="shine" cx=".3" cy=".25" r=".8"><stop offset="0" stop-color="#fff" stop-opacity=".55"/><stop offset="1" stop-color="#fff" stop-opacity="0"/></radialGradient></defs><rect width="64" height="64" fill="url(#bg)"/>${body}</svg>`;

const ART = {
  duck: wrap(
    '#bfe6ff',
    '#6ab8f0',
    `<rect y="48" width="64" height="16" fill="#3c8fd6"/><path d="M0 50q8-4 16 0t16 0 16 0 16 0v3H0z" fill="#8fd0ff"/>
     <ellipse cx="34" cy="45" rx="20" ry="11" fill="#ffd23a" stroke="#d9a400" stroke-width="1.2"/>
     <path d="M38 40q10-2 13 6-7 3-14-1z" fill="#f5bd1f" stroke="#d9a400"/>
     <circle cx="24" cy="27" r="11" fill="#ffd23a" stroke="#d9a400" stroke-width="1.2"/>
     <path d="M12 27q-7 1-8 4 4 2 9 0z" fill="#ff8c1a" stroke="#d0650a"/>
     <circle cx="21" cy="24" r="2.4" fill="#222"/><circle cx="21.8" cy="23.2" r=".8" fill="#fff"/>
     <ellipse cx="27" cy="23" rx="4" ry="3" fill="url(#shine)"/>`,
  ),
  dog: wrap(
    '#d8f5b8',
    '#86c95a',
    `<ellipse cx="16" cy="32" rx="8" ry="15" fill="#7a4a22" transform="rotate(18 16 32)"/>
     <ellipse cx="48" cy="32" rx="8" ry="15" fill="#7a4a22" transform="rotate(-18 48 32)"/>
     <circle cx="32" cy="33" r="19" fill="#c88b4a" stroke="#8d5a26" stroke-width="1.2"/>
     <ellipse cx="32" cy="42" rx="11" ry="9" fill="#f3dcc0"/>
     <ellipse cx="32" cy="37" rx="4.5" ry="3.2" fill="#2a1a10"/>
     <path d="M32 40v4m-5 0q5 4 10 0" stroke="#2a1a10" stroke-width="1.5" fill="none" stroke-linecap="round"/>
     <path d="M30 45q2 6 4 0z" fill="#ff6f8a"/>
     <circle cx="25" cy="28" r="2.6" fill="#222"/><circle cx="39" cy="28" r="2.6" fill="#222"/>
     <circle cx="25.8" cy="27.2" r=".9" fill="#fff"/><circle cx="39.8" cy="27.2" r=".9" fill="#fff"/>`,
  ),
  cat: wrap(
    '#e7dcff',
    '#a58de0',
    `<path d="M14 30 12 8l16 12zM50 30l2-22-16 12z" fill="#8e8e9a" stroke="#5f5f6c"/>
     <path d="M16 24 15 13l8 7zM48 24l1-11-8 7z" fill="#ffb3c6"/>
     <circle cx="32" cy="36" r="20" fill="#9d9dab" stroke="#5f5f6c" stroke-width="1.2"/>
     <ellipse cx="24" cy="33" rx="4" ry="5" fill="#b8f060"/><ellipse cx="40" cy="33" rx="4" ry="5" fill="#b8f060"/>
     <ellipse cx="24" cy="33" rx="1.4" ry="4.2" fill="#222"/><ellipse cx="40" cy="33" rx="1.4" ry="4.2" fill="#222"/>
     <path d="M29.5 41h5L32 44z" fill="#ff7f9e"/>
     <path d="M32 44q-2 4-6 3m6-3q2 4 6 3" stroke="#444" fill="none" stroke-linecap="round"/>
     <path d="M8 40l12 1M8 46l12-2M56 40l-12 1M56 46l-12-2" stroke="#444" stroke-width=".9"/>`,
  ),
  chess: wrap(
    '#f4ead2',
    '#cbb68a',
    `<g fill="#b39660" opacity=".55"><rect width="16" height="16"/><rect x="32" width="16" height="16"/><rect x="16" y="16" width="16" height="16"/><rect x="48" y="16" width="16" height="16"/><rect y="32" width="16" height="16"/><rect x="32" y="32" width="16" height="16"/><rect x="16" y="48" width="16" height="16"/><rect x="48" y="48" width="16" height="16"/></g>
     <path d="M20 56h24v-5H20z" fill="#222"/><path d="M23 51h18l-3-7H26z" fill="#2b2b2b"/>
     <path d="M26 44h12l-2-16h-8z" fill="#333"/><ellipse cx="32" cy="28" rx="8" ry="3" fill="#222"/>
     <circle cx="32" cy="20" r="6" fill="#333"/><path d="M30.5 8h3v4h3v3h-3v2h-3v-2h-3v-3h3z" fill="#222"/>
     <ellipse cx="29" cy="19" rx="2" ry="3" fill="#fff" opacity=".35"/>`,
  ),
  soccer: wrap(
    '#9be37f',
    '#3f9c2c',
    `<path d="M0 44h64M0 54h64" stroke="#b9f0a4" stroke-width="2" opacity=".6"/>
     <circle cx="32" cy="32" r="22" fill="#fff" stroke="#333" stroke-width="1.4"/>
     <path d="M32 23l8 6-3 9h-10l-3-9z" fill="#222"/>
     <path d="M32 10.5v6.5M40 29l9-3M37 38l6 8M27 38l-6 8M24 29l-9-3" stroke="#333" stroke-width="1.4"/>
     <path d="M26 11l6 6 6-6M51 22l-2 10 8 6M44 50l-1-4-6-8M20 50l1-4 6-8M13 22l2 10-8 6" fill="none" stroke="#333"/>
     <path d="M24 12l8 5 8-5-3-2h-10zM47 44l5-8-3-10 4 1 3 8zM17 44l-5-8 3-10-4 1-3 8z" fill="#222"/>
     <circle cx="32" cy="32" r="22" fill="url(#shine)"/>`,
  ),
  guitar: wrap(
    '#ffd59a',
    '#f08a24',
    `<g transform="rotate(-35 32 32)">
     <rect x="29" y="2" width="6" height="30" fill="#6b3b16"/><rect x="27" y="-2" width="10" height="7" rx="2" fill="#3d1f0a"/>
     <path d="M32 26c-8 0-13 5-11 11 1 3-4 5-4 11 0 8 7 13 15 13s15-5 15-13c0-6-5-8-4-11 2-6-3-11-11-11z" fill="#c0561a" stroke="#7a2e08" stroke-width="1.2"/>
     <circle cx="32" cy="41" r="4.5" fill="#2a1203"/><rect x="27" y="51" width="10" height="2.5" fill="#2a1203"/>
     <path d="M30.5 4v49M32 4v49M33.5 4v49" stroke="#f1e3c6" stroke-width=".5"/></g>`,
  ),
  flower: wrap(
    '#fbffd0',
    '#b8e58a',
    `<path d="M32 36q-2 14 0 28" stroke="#3c9a2e" stroke-width="3" fill="none"/>
     <path d="M32 52q10-10 18-6-8 10-18 6z" fill="#52b840"/>
     <g fill="#ff78b0" stroke="#d8457f"><ellipse cx="32" cy="16" rx="7" ry="10"/><ellipse cx="32" cy="40" rx="7" ry="10"/>
     <ellipse cx="20" cy="22" rx="7" ry="10" transform="rotate(-60 20 22)"/><ellipse cx="44" cy="22" rx="7" ry="10" transform="rotate(60 44 22)"/>
     <ellipse cx="20" cy="34" rx="7" ry="10" transform="rotate(60 20 34)"/><ellipse cx="44" cy="34" rx="7" ry="10" transform="rotate(-60 44 34)"/></g>
     <circle cx="32" cy="28" r="7" fill="#ffd43a" stroke="#e09a00"/><circle cx="30" cy="26" r="2" fill="#fff" opacity=".6"/>`,
  ),
  skate: wrap(
    '#b5f3ee',
    '#2aa89e',
    `<g transform="rotate(-20 32 34)"><rect x="6" y="28" width="52" height="9" rx="4.5" fill="#ff5a36" stroke="#a5290e" stroke-width="1.2"/>
     <path d="M14 30h36" stroke="#ffd23a" stroke-width="2.5"/><path d="M20 33l6-3M30 33l6-3M40 33l6-3" stroke="#222" stroke-width="1.5"/>
     <rect x="14" y="37" width="6" height="3" fill="#888"/><rect x="44" y="37" width="6" height="3" fill="#888"/>
     <circle cx="14" cy="43" r="4" fill="#f6f6f6" stroke="#555"/><circle cx="20" cy="43" r="4" fill="#f6f6f6" stroke="#555"/>
     <circle cx="44" cy="43" r="4" fill="#f6f6f6" stroke="#555"/><circle cx="50" cy="43" r="4" fill="#f6f6f6" stroke="#555"/></g>
     <path d="M6 54q6-3 12 0M44 14q5-3 10 0" stroke="#fff" stroke-width="2" fill="none" opacity=".7"/>`,
  ),
  beach: wrap(
    '#7fd0ff',
    '#c9efff',
    `<circle cx="48" cy="15" r="8" fill="#ffe14a"/><circle cx="48" cy="15" r="11" fill="#ffe14a" opacity=".3"/>
     <rect y="36" width="64" height="12" fill="#1e8fd8"/><path d="M0 38q4-2 8 0t8 0 8 0 8 0 8 0 8 0 8 0 8 0" stroke="#8fd6ff" fill="none"/>
     <path d="M0 46q32-6 64 0v18H0z" fill="#f7d98b"/>
     <path d="M22 58 30 22" stroke="#6b4a2a" stroke-width="2"/>
     <path d="M10 26q20-18 40 0z" fill="#ff4d4d"/><path d="M17 26q3-12 13-15 4 5 4 15zM30 11q10 3 13 15h-6q0-10-7-15z" fill="#fff"/>
     <circle cx="44" cy="54" r="4" fill="#ff9a2e"/><path d="M40 54h8M44 50v8" stroke="#fff" stroke-width="1"/>`,
  ),
  rocket: wrap(
    '#10204d',
    '#2d4ea0',
    `<g fill="#fff"><circle cx="9" cy="10" r="1"/><circle cx="52" cy="8" r="1.2"/><circle cx="56" cy="40" r="1"/><circle cx="8" cy="44" r=".8"/><circle cx="20" cy="56" r="1"/></g>
     <g transform="rotate(35 32 32)"><path d="M32 6c8 8 10 20 8 34H24c-2-14 0-26 8-34z" fill="#eef2f7" stroke="#7c8aa0" stroke-width="1.2"/>
     <path d="M32 6c4 4 6 8 7 12H25c1-4 3-8 7-12z" fill="#ff4040"/>
     <circle cx="32" cy="26" r="4.5" fill="#5cc8ff" stroke="#3a6b9a" stroke-width="1.5"/>
     <path d="M24 32l-7 10 8-1zM40 32l7 10-8-1z" fill="#ff4040"/>
     <path d="M26 41q6 18 12 0z" fill="#ffb020"/><path d="M29 41q3 10 6 0z" fill="#fff27a"/></g>`,
  ),
  robot: wrap(
    '#e2ecf5',
    '#9db3c8',
    `<path d="M32 6v8" stroke="#555" stroke-width="2"/><circle cx="32" cy="6" r="3" fill="#ff4a4a"/>
     <rect x="14" y="14" width="36" height="30" rx="6" fill="#b4bfca" stroke="#5f6b77" stroke-width="1.5"/>
     <rect x="9" y="24" width="5" height="10" rx="2" fill="#7d8995"/><rect x="50" y="24" width="5" height="10" rx="2" fill="#7d8995"/>
     <circle cx="24" cy="27" r="5.5" fill="#1b2a38"/><circle cx="40" cy="27" r="5.5" fill="#1b2a38"/>
     <circle cx="24" cy="27" r="3" fill="#39e0ff"/><circle cx="40" cy="27" r="3" fill="#39e0ff"/>
     <rect x="22" y="35" width="20" height="5" rx="1.5" fill="#1b2a38"/><path d="M26 35v5M30 35v5M34 35v5M38 35v5" stroke="#39e0ff" stroke-width=".8"/>
     <rect x="18" y="46" width="28" height="18" rx="3" fill="#a3afbb" stroke="#5f6b77"/><circle cx="32" cy="54" r="3" fill="#6fdc5a"/>`,
  ),
  butterfly: wrap(
    '#ffe3f0',
    '#ffa6cf',
    `<g stroke="#5a2a6e" stroke-width="1.2"><path d="M31 30C22 10 6 12 8 24s14 10 23 8z" fill="#9b5cf0"/><path d="M33 30C42 10 58 12 56 24s-14 10-23 8z" fill="#9b5cf0"/>
     <path d="M31 34c-10 0-18 8-14 16s12 2 14-10z" fill="#ff8a3d"/><path d="M33 34c10 0 18 8 14 16s-12 2-14-10z" fill="#ff8a3d"/></g>
     <circle cx="18" cy="22" r="3.5" fill="#fff" opacity=".8"/><circle cx="46" cy="22" r="3.5" fill="#fff" opacity=".8"/>
     <circle cx="22" cy="43" r="2.5" fill="#ffe14a"/><circle cx="42" cy="43" r="2.5" fill="#ffe14a"/>
     <ellipse cx="32" cy="34" rx="2.5" ry="13" fill="#3a1a4a"/>
     <path d="M31 22q-4-10-8-12M33 22q4-10 8-12" stroke="#3a1a4a" fill="none" stroke-width="1.2"/>`,
  ),
  metal: wrap(
    '#3a0a0a',
    '#090909',
    `<path d="M0 64V48q6 6 8-4 4 8 8 0 3 10 8 2 4 8 8-2 4 10 8 0 4 8 8-2 4 6 8 0 4 8 8 2v16z" fill="#ff5a00"/>
     <path d="M0 64v-8q6 4 10-2 4 6 10 0 5 6 10 0 5 6 12 0 5 6 10 0 5 5 12 0v10z" fill="#ffd000"/>
     <path d="M18 28c0-12 6-18 14-18s14 6 14 18c0 6-3 9-5 10v6H23v-6c-2-1-5-4-5-10z" fill="#f1eee6" stroke="#777"/>
     <ellipse cx="26" cy="28" rx="4.5" ry="5" fill="#111"/><ellipse cx="38" cy="28" rx="4.5" ry="5" fill="#111"/>
     <circle cx="26" cy="29" r="1.3" fill="#ff3b1f"/><circle cx="38" cy="29" r="1.3" fill="#ff3b1f"/>
     <path d="M30 36l2-3 2 3z" fill="#111"/><path d="M26 40v4M30 40v4M34 40v4M38 40v4" stroke="#777"/>`,
  ),
  butler: wrap(
    '#7d1f2e',
    '#3c0b14',
    `<path d="M6 64q2-18 26-18t26 18z" fill="#151515"/><path d="M24 46l8 16 8-16z" fill="#fff"/>
     <path d="M26 50l6 4-6 4zM38 50l-6 4 6 4z" fill="#111"/><circle cx="32" cy="54" r="1.6" fill="#111"/>
     <circle cx="32" cy="28" r="15" fill="#f2c9a0" stroke="#b58356"/>
     <path d="M17 26q1-12 15-13 14 1 15 13-3-7-15-7t-15 7z" fill="#8b8b8b"/>
     <circle cx="26" cy="28" r="1.6" fill="#222"/><circle cx="38" cy="28" r="1.6" fill="#222"/>
     <path d="M23 24h6M35 24h6" stroke="#666" stroke-width="1.5"/>
     <path d="M27 36q5 3 10 0" stroke="#8a4b2a" stroke-width="1.5" fill="none" stroke-linecap="round"/>
     <circle cx="38" cy="28" r="4" fill="none" stroke="#d4a020" stroke-width="1.2"/><path d="M42 29q3 6 1 14" stroke="#d4a020" fill="none" stroke-width=".8"/>`,
  ),
  hacker: wrap(
    '#001a06',
    '#000',
    `<g fill="#19ff5a" font-family="monospace" font-size="7" opacity=".55"><text x="2" y="10">01101</text><text x="40" y="14">1001</text><text x="4" y="58">110</text><text x="46" y="60">0110</text><text x="2" y="34">1</text><text x="58" y="36">0</text></g>
     <path d="M12 64q0-22 8-34 4-18 12-18t12 18q8 12 8 34z" fill="#1c1c1c" stroke="#19ff5a" stroke-width=".8"/>
     <ellipse cx="32" cy="36" rx="10" ry="12" fill="#d8b08a"/>
     <path d="M20 32h24v5q-4 3-8 0-2-2-4-2t-4 2q-4 3-8 0z" fill="#0a0a0a"/>
     <path d="M24 33l5 0M36 33l5 0" stroke="#19ff5a" stroke-width=".8" opacity=".8"/>
     <path d="M28 43q4 2 8 0" stroke="#6a4020" fill="none" stroke-width="1.2"/>`,
  ),
  turntable: wrap(
    '#c98bff',
    '#5a1fa8',
    `<rect x="6" y="10" width="52" height="44" rx="4" fill="#d7d9de" stroke="#5a5f69" stroke-width="1.2"/>
     <circle cx="28" cy="32" r="18" fill="#111"/><circle cx="28" cy="32" r="14" fill="none" stroke="#333"/><circle cx="28" cy="32" r="10" fill="none" stroke="#333"/>
     <circle cx="28" cy="32" r="6" fill="#ff3fa4"/><circle cx="28" cy="32" r="1.2" fill="#fff"/>
     <path d="M22 22a12 12 0 0 1 6-2" stroke="#555" fill="none"/>
     <circle cx="50" cy="16" r="3" fill="#9aa0aa" stroke="#555"/><path d="M50 16l2 22-8 8" stroke="#9aa0aa" stroke-width="2.4" fill="none" stroke-linecap="round"/>
     <rect x="46" y="44" width="8" height="4" rx="1" fill="#444"/><circle cx="12" cy="50" r="2" fill="#3aff7a"/>`,
  ),
  paperclip: wrap(
    '#fffbe0',
    '#f3e08a',
    `<path d="M0 14h64M0 24h64M0 34h64M0 44h64M0 54h64" stroke="#b9d4f0" stroke-width=".8"/>
     <path d="M26 56V18a8 8 0 0 1 16 0v32a5 5 0 0 1-10 0V22" fill="none" stroke="#6f7c8c" stroke-width="3.5" stroke-linecap="round"/>
     <path d="M26 56V18a8 8 0 0 1 16 0v32a5 5 0 0 1-10 0V22" fill="none" stroke="#d7dee8" stroke-width="1.2" stroke-linecap="round"/>
     <ellipse cx="27" cy="27" rx="5" ry="6" fill="#fff" stroke="#333"/><ellipse cx="41" cy="27" rx="5" ry="6" fill="#fff" stroke="#333"/>
     <circle cx="28.5" cy="28" r="2.3" fill="#222"/><circle cx="42.5" cy="28" r="2.3" fill="#222"/>
     <path d="M21 18q5-4 10-1M37 17q5-3 10 1" stroke="#333" stroke-width="1.6" fill="none" stroke-linecap="round"/>`,
  ),
  myspace: wrap(
    '#6fa8ff',
    '#1d4fb0',
    `<path d="M8 64q2-16 24-16t24 16z" fill="#fff"/><path d="M26 48q6 6 12 0" fill="#e8e8e8"/>
     <circle cx="32" cy="30" r="14" fill="#f4c7a0" stroke="#b98557"/>
     <path d="M18 28q-1-14 14-14 15 0 14 14-3-7-8-8-6 3-12 0-5 2-8 8z" fill="#3b2414"/>
     <circle cx="27" cy="30" r="1.7" fill="#222"/><circle cx="37" cy="30" r="1.7" fill="#222"/>
     <path d="M25 36q7 7 14 0" stroke="#7a3b1a" stroke-width="1.6" fill="#fff" stroke-linejoin="round"/>
     <circle cx="18" cy="31" r="2.5" fill="#f4c7a0"/><circle cx="46" cy="31" r="2.5" fill="#f4c7a0"/>`,
  ),
  hal: wrap(
    '#2a2a2e',
    '#050505',
    `<rect x="10" y="6" width="44" height="52" rx="3" fill="#1a1a1d" stroke="#555" stroke-width="1.2"/>
     <rect x="14" y="10" width="36" height="6" fill="#2e2e35"/><path d="M16 13h20" stroke="#bbb" stroke-width="1.5"/>
     <circle cx="32" cy="37" r="15" fill="#8a8f99"/><circle cx="32" cy="37" r="13" fill="#0b0b0b"/>
     <circle cx="32" cy="37" r="9" fill="#5a0000"/><circle cx="32" cy="37" r="6" fill="#c00000"/><circle cx="32" cy="37" r="3.2" fill="#ff3b1f"/>
     <circle cx="32" cy="37" r="1.4" fill="#ffe066"/><ellipse cx="27" cy="31" rx="4" ry="2.4" fill="#fff" opacity=".22"/>`,
  ),
  generic: wrap(
    '#eaf2fb',
    '#a9c2de',
    `<circle cx="32" cy="25" r="12" fill="#7f9dbf"/><path d="M10 62q0-22 22-22t22 22z" fill="#7f9dbf"/>
     <circle cx="28" cy="21" r="4" fill="#fff" opacity=".35"/>`,
  ),
};

const cache = new Map();

export function avatarUrl(id) {
  const key = Object.prototype.hasOwnProperty.call(ART, id) ? id : 'generic';
  if (!cache.has(key)) cache.set(key, `data:image/svg+xml;charset=utf-8,${encodeURIComponent(ART[key])}`);
  return cache.get(key);
}

export const AVATAR_IDS = Object.keys(ART).filter((k) => k !== 'generic');
