// An XP-style window on the desktop: drag by the title bar, resize from the corner, focus on click or keyboard
// focus, minimise to the taskbar, maximise, close. On narrow screens windows become stacked full-width panels
// (see styles.css) and dragging is off.
import { useRef } from 'preact/hooks';
import { html } from '../html.js';
import { focusWindow, minimizeWindow, moveWindow, resizeWindow, toggleMaximize } from '../conversations.js';

const narrow = () => window.matchMedia && window.matchMedia('(max-width: 640px)').matches;

export function Window({
  id,
  title,
  icon,
  pos,
  minimized,
  maximized,
  focused,
  zIndex,
  className = '',
  testid,
  attrs = {},
  onClose,
  canMaximize = true,
  minSize = { w: 260, h: 300 },
  children,
}) {
  const ref = useRef(null);
  const drag = useRef(null);

  const onTitleDown = (e) => {
    focusWindow(id);
    if (e.button !== 0 || maximized || narrow() || e.target.closest('button')) return;
    e.preventDefault();
    drag.current = { mode: 'move', sx: e.clientX, sy: e.clientY, x: pos.x, y: pos.y };
    e.currentTarget.setPointerCapture(e.pointerId);
  };
  const onGripDown = (e) => {
    if (e.button !== 0 || maximized || narrow()) return;
    e.preventDefault();
    e.stopPropagation();
    focusWindow(id);
    drag.current = { mode: 'size', sx: e.clientX, sy: e.clientY, w: pos.w, h: pos.h };
    e.currentTarget.setPointerCapture(e.pointerId);
  };
  const onPointerMove = (e) => {
    const d = drag.current;
    if (!d) return;
    const vw = window.innerWidth;
    const vh = window.innerHeight - 30;
    if (d.mode === 'move') {
      const x = Math.min(vw - 80, Math.max(80 - pos.w, d.x + e.clientX - d.sx));
      const y = Math.min(vh - 30, Math.max(0, d.y + e.clientY - d.sy));
      moveWindow(id, Math.round(x), Math.round(y));
    } else {
      const w = Math.max(minSize.w, Math.min(vw - pos.x, d.w + e.clientX - d.sx));
      const h = Math.max(minSize.h, Math.min(vh - pos.y, d.h + e.clientY - d.sy));
      resizeWindow(id, Math.round(w), Math.round(h));
    }
  };
  const onPointerUp = (e) => {
    if (!drag.current) return;
    drag.current = null;
    try {
      e.currentTarget.releasePointerCapture(e.pointerId);
    } catch {
      /* already released */
    }
  };

  const style = maximized
    ? { zIndex: String(zIndex) }
    : { left: `${pos.x}px`, top: `${pos.y}px`, width: `${pos.w}px`, height: `${pos.h}px`, zIndex: String(zIndex) };
  const cls = [
    'window',
    'sb-window',
    className,
    focused ? 'is-focused' : 'is-inactive',
    minimized ? 'is-minimized' : '',
    maximized ? 'is-maximized' : '',
  ].join(' ');

  return html`<section class=${cls} style=${style} ref=${ref} data-testid=${testid} aria-label=${title}
      onPointerDown=${() => !focused && focusWindow(id)} onFocusIn=${() => !focused && focusWindow(id)} ...${attrs}>
    <div class="title-bar" onPointerDown=${onTitleDown} onPointerMove=${onPointerMove} onPointerUp=${onPointerUp}
      onPointerCancel=${onPointerUp} onDblClick=${(e) => canMaximize && !e.target.closest('button') && toggleMaximize(id)}>
      <div class="title-bar-text">${icon}<span class="title-text">${title}</span></div>
      <div class="title-bar-controls">
        <button type="button" aria-label="Minimize" title="Minimise" data-testid="window-minimize" onClick=${() => minimizeWindow(id)}></button>
        ${canMaximize &&
        html`<button type="button" aria-label="Maximize" title=${maximized ? 'Restore' : 'Maximise'}
          aria-pressed=${maximized ? 'true' : 'false'} onClick=${() => toggleMaximize(id)}></button>`}
        ${onClose && html`<button type="button" aria-label="Close" title="Close" data-testid="window-close" onClick=${onClose}></button>`}
      </div>
    </div>
    <div class="window-body sb-body">${children}</div>
    ${!maximized &&
    html`<div class="resize-grip" aria-hidden="true" onPointerDown=${onGripDown} onPointerMove=${onPointerMove}
      onPointerUp=${onPointerUp} onPointerCancel=${onPointerUp}></div>`}
  </section>`;
}
