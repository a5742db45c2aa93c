// A drop-down menu (or picker popup) with keyboard support: arrows move, Enter picks, Escape or Tab closes and
// focus returns to the button; a click outside closes it.
import { useEffect, useRef, useState } from 'preact/hooks';
import { html } from '../html.js';

export function usePopup() {
  const [open, setOpen] = useState(false);
  const rootRef = useRef(null);
  const buttonRef = useRef(null);
  useEffect(() => {
    if (!open) return undefined;
    const onDown = (e) => {
      if (rootRef.current && !rootRef.current.contains(e.target)) setOpen(false);
    };
    document.addEventListener('pointerdown', onDown, true);
    return () => document.removeEventListener('pointerdown', onDown, true);
  }, [open]);
  const close = (refocus = true) => {
    setOpen(false);
    if (refocus && buttonRef.current) buttonRef.current.focus();
  };
  return { open, setOpen, close, rootRef, buttonRef };
}

// Keyboard handling shared by menus and grid pickers. `cols` > 1 makes left/right and up/down move in a grid.
export function popupKeys(e, popup, cols = 1) {
  const items = [...e.currentTarget.querySelectorAll('[data-menuitem]:not([disabled])')];
  const i = items.indexOf(document.activeElement);
  const move = (d) => {
    e.preventDefault();
    const next = items[(i + d + items.length) % items.length];
    if (next) next.focus();
  };
  switch (e.key) {
    case 'Escape':
      e.preventDefault();
      e.stopPropagation();
      popup.close(true);
      break;
    case 'Tab':
      popup.close(false);
      break;
    case 'ArrowDown':
      move(cols);
      break;
    case 'ArrowUp':
      move(-cols);
      break;
    case 'ArrowRight':
      if (cols > 1) move(1);
      break;
    case 'ArrowLeft':
      if (cols > 1) move(-1);
      break;
    case 'Home':
      e.preventDefault();
      items[0] && items[0].focus();
      break;
    case 'End':
      e.preventDefault();
      items[items.length - 1] && items[items.length - 1].focus();
      break;
    default:
      break;
  }
}

export function focusFirstItem(container) {
  requestAnimationFrame(() => {
    const el = container && container.querySelector('[data-menuitem]:not([disabled])');
    if (el) el.focus();
  });
}

export function Menu({ label, items, className = '', testid, menuTestid, align = 'left', title }) {
  const popup = usePopup();
  const listRef = useRef(null);
  const toggle = () => {
    popup.setOpen(!popup.open);
    if (!popup.open) focusFirstItem(listRef.current || popup.rootRef.current);
  };
  const onButtonKey = (e) => {
    if (e.key === 'ArrowDown' && !popup.open) {
      e.preventDefault();
      popup.setOpen(true);
      focusFirstItem(popup.rootRef.current);
    }
  };
  return html`<div class=${`menu ${className}`} ref=${popup.rootRef}>
    <button type="button" class="menu-button" ref=${popup.buttonRef} aria-haspopup="menu" aria-expanded=${popup.open ? 'true' : 'false'}
      data-testid=${testid} title=${title} onClick=${toggle} onKeyDown=${onButtonKey}>${label}</button>
    ${popup.open &&
    html`<ul class=${`menu-list align-${align}`} role="menu" ref=${listRef} data-testid=${menuTestid} onKeyDown=${(e) => popupKeys(e, popup)}>
      ${items.map((it) =>
        it.separator
          ? html`<li role="separator" class="menu-sep"></li>`
          : html`<li role="none">
              <button type="button" role=${it.checked !== undefined ? 'menuitemradio' : 'menuitem'} data-menuitem
                aria-checked=${it.checked !== undefined ? String(!!it.checked) : undefined} data-testid=${it.testid}
                disabled=${it.disabled} onClick=${() => {
                  popup.close(true);
                  it.onSelect && it.onSelect();
                }}>
                <span class="menu-check">${it.checked ? '●' : ''}</span>${it.icon || null}<span class="menu-label">${it.label}</span>
              </button>
            </li>`,
      )}
    </ul>`}
  </div>`;
}
