// Emoticons: text codes become small pictures of our own. parseEmoticons() splits a string into text pieces and
// emoticon pieces; the renderer turns the first into text nodes and the second into <img> elements, so user text
// never becomes markup.

const face = (features, fill = '#ffd83b') =>
  `<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 20 20"><defs><radialGradient id="f" cx=".38" cy=".3" r=".75"><stop offset="0" stop-color="#fff6b0"/><stop offset=".55" stop-color="${fill}"/><stop offset="1" stop-color="#e89a00"/></radialGradient></defs><circle cx="10" cy="10" r="9" fill="url(#f)" stroke="#a86a00" stroke-width=".9"/>${features}</svg>`;
const pic = (body) => `<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 20 20">${body}</svg>`;

const eyes = '<ellipse cx="7" cy="7.6" rx="1.1" ry="1.6" fill="#3a2200"/><ellipse cx="13" cy="7.6" rx="1.1" ry="1.6" fill="#3a2200"/>';

// name, codes (first is the canonical one shown in the picker), picture
const LIST = [
  ['smile', [':)', ':-)'], face(`${eyes}<path d="M5.5 11.5q4.5 4.5 9 0" stroke="#3a2200" stroke-width="1.2" fill="none" stroke-linecap="round"/>`)],
  ['grin', [':D', ':-D'], face(`${eyes}<path d="M5 10.5h10q-1 5.5-5 5.5t-5-5.5z" fill="#fff" stroke="#3a2200" stroke-width="1"/><path d="M6 13h8" stroke="#3a2200" stroke-width=".6"/>`)],
  ['wink', [';)', ';-)'], face(`<path d="M5.6 8q1.4-1.2 2.8 0" stroke="#3a2200" stroke-width="1.1" fill="none" stroke-linecap="round"/><ellipse cx="13" cy="7.6" rx="1.1" ry="1.6" fill="#3a2200"/><path d="M5.5 11.5q4.5 4.5 9 0" stroke="#3a2200" stroke-width="1.2" fill="none" stroke-linecap="round"/>`)],
  ['sad', [':(', ':-('], face(`${eyes}<path d="M6 15q4-4 8 0" stroke="#3a2200" stroke-width="1.2" fill="none" stroke-linecap="round"/>`)],
  ['tongue', [':P', ':-P'], face(`${eyes}<path d="M5.5 11.5q4.5 3 9 0" stroke="#3a2200" stroke-width="1.2" fill="none" stroke-linecap="round"/><path d="M8.5 12.6h4v2a2 2 0 0 1-4 0z" fill="#ff5d7a" stroke="#b8203c" stroke-width=".6"/>`)],
  ['surprised', [':O', ':-O'], face(`${eyes}<ellipse cx="10" cy="13.5" rx="2.2" ry="2.6" fill="#3a2200"/>`)],
  ['cool', ['(H)', '8-)'], face(`<path d="M3 6.5h14l-.5 2.5q-.5 2-3 2t-3-2.3h-1q-.5 2.3-3 2.3t-3-2z" fill="#111"/><path d="M5 7.3l2 0" stroke="#fff" stroke-width=".6" opacity=".7"/><path d="M5.5 12.5q4.5 3.5 9 0" stroke="#3a2200" stroke-width="1.2" fill="none" stroke-linecap="round"/>`)],
  ['angry', [':@', ':-@'], face(`<path d="M4.5 5.5l4 1.8M15.5 5.5l-4 1.8" stroke="#3a2200" stroke-width="1.2" stroke-linecap="round"/>${eyes}<path d="M6 14.5q4-3 8 0" stroke="#3a2200" stroke-width="1.2" fill="none" stroke-linecap="round"/>`, '#ff8a4a')],
  ['confused', [':S', ':-S'], face(`${eyes}<path d="M5.5 13q1.5-2 3 0t3 0 3 0" stroke="#3a2200" stroke-width="1.1" fill="none" stroke-linecap="round"/>`)],
  ['blush', [':$', ':-$'], face(`${eyes}<ellipse cx="5" cy="11" rx="2" ry="1.2" fill="#ff6f8a" opacity=".7"/><ellipse cx="15" cy="11" rx="2" ry="1.2" fill="#ff6f8a" opacity=".7"/><path d="M7.5 13.2h5" stroke="#3a2200" stroke-width="1.1" stroke-linecap="round"/>`)],
  ['crying', [":'("], face(`${eyes}<path d="M6 15q4-4 8 0" stroke="#3a2200" stroke-width="1.2" fill="none" stroke-linecap="round"/><path d="M13.6 9.5q1.6 2.5 0 3.5-1.6-1 0-3.5z" fill="#4fb6ff"/>`)],
  ['neutral', [':|', ':-|'], face(`${eyes}<path d="M6.5 13h7" stroke="#3a2200" stroke-width="1.2" stroke-linecap="round"/>`)],
  ['kiss', [':*', ':-*'], face(`${eyes}<path d="M9 11.5q2.5 1 0 2 2.5 1 0 2" stroke="#c2185b" stroke-width="1.2" fill="none" stroke-linecap="round"/>`)],
  ['thumbs up', ['(Y)'], pic(`<path d="M3 9h3v8H3z" fill="#3d6fd6"/><path d="M6 9.5l3.5-6q1.8-.5 2 1.5L10.8 8H16q1.5.3 1.3 1.8l-1.2 5.7q-.4 1.5-2 1.5H6z" fill="#ffcf52" stroke="#a8700a" stroke-width=".9" stroke-linejoin="round"/>`)],
  ['thumbs down', ['(N)'], pic(`<g transform="rotate(180 10 10)"><path d="M3 9h3v8H3z" fill="#3d6fd6"/><path d="M6 9.5l3.5-6q1.8-.5 2 1.5L10.8 8H16q1.5.3 1.3 1.8l-1.2 5.7q-.4 1.5-2 1.5H6z" fill="#ffcf52" stroke="#a8700a" stroke-width=".9" stroke-linejoin="round"/></g>`)],
  ['heart', ['<3', '(L)'], pic(`<defs><radialGradient id="h" cx=".35" cy=".3" r=".8"><stop offset="0" stop-color="#ff9ab0"/><stop offset="1" stop-color="#d8102e"/></radialGradient></defs><path d="M10 17.5S2 12.5 2 7.2A4 4 0 0 1 10 5.5a4 4 0 0 1 8 1.7c0 5.3-8 10.3-8 10.3z" fill="url(#h)" stroke="#8c0018" stroke-width=".8"/><ellipse cx="6.3" cy="7" rx="1.6" ry="1" fill="#fff" opacity=".6"/>`)],
  ['broken heart', ['</3', '(U)'], pic(`<path d="M9.5 17S2 12.5 2 7.2a4 4 0 0 1 7.5-1.7L8 9l2.5 2-1 6z" fill="#c9233c" stroke="#8c0018" stroke-width=".8"/><path d="M11 17.5s7-5 7-10.3A4 4 0 0 0 10.6 5.3L9.5 9 12 11z" fill="#c9233c" stroke="#8c0018" stroke-width=".8"/>`)],
  ['star', ['(*)'], pic(`<path d="M10 1.5l2.6 5.4 5.9.8-4.3 4.1 1 5.8L10 14.8l-5.2 2.8 1-5.8L1.5 7.7l5.9-.8z" fill="#ffd83b" stroke="#b87900" stroke-width=".9" stroke-linejoin="round"/>`)],
  ['coffee', ['(C)'], pic(`<path d="M4 7h10v6a4 4 0 0 1-4 4H8a4 4 0 0 1-4-4z" fill="#fff" stroke="#555"/><path d="M14 9h1.5a2 2 0 0 1 0 4H14" stroke="#555" fill="none" stroke-width="1.2"/><ellipse cx="9" cy="7.5" rx="4.5" ry="1" fill="#6b3b16"/><path d="M7 5q-1-2 0-3M10 5q-1-2 0-3" stroke="#999" fill="none"/>`)],
  ['rose', ['(F)'], pic(`<path d="M10 10v8" stroke="#2f8f2a" stroke-width="1.5"/><path d="M10 15q3-3 5-2-2 3-5 2z" fill="#3cae33"/><circle cx="10" cy="7" r="5" fill="#e0223f" stroke="#8c0018" stroke-width=".8"/><path d="M8 6q2-2 4 0t-1 3" stroke="#8c0018" fill="none" stroke-width=".8"/>`)],
];

export const EMOTICONS = LIST.map(([name, codes, svg]) => ({
  name,
  code: codes[0],
  codes,
  url: `data:image/svg+xml;charset=utf-8,${encodeURIComponent(svg)}`,
}));

const byCode = new Map();
for (const e of EMOTICONS) for (const c of e.codes) byCode.set(c.toUpperCase(), e);

const escapeRe = (s) => s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
const codes = [...byCode.keys()].sort((a, b) => b.length - a.length);
// A code that ends in a letter (":D", ":S") only counts when no letter or digit follows, so "Note:Some" stays text.
const RE = new RegExp(codes.map((c) => escapeRe(c) + (/[A-Z0-9]$/i.test(c) ? '(?![A-Za-z0-9])' : '')).join('|'), 'gi');

// Returns [{text}|{emoticon, code}] pieces in order.
export function parseEmoticons(text) {
  const out = [];
  let last = 0;
  RE.lastIndex = 0;
  for (let m; (m = RE.exec(text)); ) {
    if (m.index > last) out.push({ text: text.slice(last, m.index) });
    out.push({ emoticon: byCode.get(m[0].toUpperCase()), code: m[0] });
    last = m.index + m[0].length;
  }
  if (last < text.length) out.push({ text: text.slice(last) });
  return out;
}
