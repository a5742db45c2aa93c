// The desktop: windows, the taskbar with one button per window, pop-up notifications, the session-expiry
// warning, and the screens shown before sign-in and after the session ends.
import { useEffect, useState } from 'preact/hooks';
import { html } from '../html.js';
import { state, changed } from '../store.js';
import { refreshSession, backToSignIn, logout } from '../session.js';
import { focusWindow, minimizeWindow, convTitle, toastOpen } from '../conversations.js';
import { ContactList } from './ContactList.js';
import { ConversationWindow } from './ConversationWindow.js';
import { Avatar, ConnIndicator, Logo } from './bits.js';
import { SpeakerIcon, PeopleIcon } from './icons.js';

function Clock() {
  const [now, setNow] = useState(() => new Date());
  useEffect(() => {
    const t = setInterval(() => setNow(new Date()), 15_000);
    return () => clearInterval(t);
  }, []);
  return html`<span class="clock">${now.toLocaleTimeString([], { hour: 'numeric', minute: '2-digit' })}</span>`;
}

function taskClick(id, minimized) {
  if (minimized) focusWindow(id);
  else if (state.focused === id) minimizeWindow(id);
  else focusWindow(id);
}

function Taskbar() {
  const convs = [...state.convs.values()];
  return html`<nav class="taskbar" aria-label="Taskbar" data-testid="taskbar">
    <button type="button" class="start-button" data-testid="taskbar-home" onClick=${() => focusWindow('contacts')} title="Show your contact list">
      <${Logo} size=${18} /><span>Switchboard</span></button>
    <div class="tasks">
      <button type="button" class=${`task ${state.focused === 'contacts' && !state.contactsMinimized ? 'active' : ''}`}
        data-testid="task-contacts" onClick=${() => taskClick('contacts', state.contactsMinimized)}>
        <${Logo} size=${14} /><span class="task-label">Contacts</span></button>
      ${convs.map((c) => {
        const unread = state.unread.get(c.roomId) || 0;
        const peer = c.kind === 'dm' ? state.users.get(c.peerId) : null;
        return html`<button type="button" key=${c.roomId}
          class=${`task ${state.focused === c.roomId && !c.minimized ? 'active' : ''} ${c.flash && unread ? 'flash' : ''}`}
          data-testid=${`task-${c.roomId}`} data-minimized=${c.minimized ? 'true' : 'false'} title=${convTitle(c)}
          onClick=${() => taskClick(c.roomId, c.minimized)}>
          ${peer ? html`<${Avatar} id=${peer.avatarId} size=${14} frame=${false} />` : html`<${PeopleIcon} />`}
          <span class="task-label">${convTitle(c)}</span>${unread ? html`<span class="task-badge">${unread}</span>` : null}</button>`;
      })}
    </div>
    <div class="tray">
      <${ConnIndicator} conn=${state.presenceConn} testid="tray-connection" compact=${true} />
      <button type="button" class="tray-button" title=${state.soundOn ? 'Sounds on' : 'Sounds off'} aria-label="Toggle sounds"
        onClick=${() => {
          state.soundOn = !state.soundOn;
          localStorage.setItem('switchboard.sound', state.soundOn ? 'on' : 'off');
          changed();
        }}><${SpeakerIcon} on=${state.soundOn} /></button>
      <${Clock} />
    </div>
  </nav>`;
}

function Toasts() {
  if (!state.toasts.length) return null;
  return html`<div class="toasts" aria-live="polite">
    ${state.toasts.map((t) => {
      const u = t.userId && state.users.get(t.userId);
      return html`<div key=${t.key} class=${`toast toast-${t.kind}`} data-testid="toast" role=${t.kind === 'error' ? 'alert' : 'status'}>
        <div class="toast-title"><${Logo} size=${12} /> Switchboard
          <button type="button" class="toast-close" aria-label="Dismiss" onClick=${() => {
            state.toasts = state.toasts.filter((x) => x !== t);
            changed();
          }}>×</button></div>
        <button type="button" class="toast-body" onClick=${() => {
          state.toasts = state.toasts.filter((x) => x !== t);
          toastOpen(t);
          changed();
        }}>
          ${u && html`<${Avatar} id=${u.avatarId} size=${36} status=${u.status} />`}
          <span class="toast-text">${t.text}</span>
        </button>
      </div>`;
    })}
  </div>`;
}

function SessionWarning() {
  const [, tick] = useState(0);
  useEffect(() => {
    const t = setInterval(() => tick((n) => n + 1), 1000);
    return () => clearInterval(t);
  }, []);
  const w = state.sessionWarning;
  if (!w) return null;
  const left = Math.max(0, Math.round((state.session.expiresLocal - Date.now()) / 1000));
  const mm = Math.floor(left / 60);
  const ss = String(left % 60).padStart(2, '0');
  return html`<div class="window sb-window session-warning is-focused" role="alertdialog" aria-labelledby="sw-title" data-testid="session-warning">
    <div class="title-bar"><div class="title-bar-text" id="sw-title">Still there?</div></div>
    <div class="window-body">
      <p>You have been inactive for a while. For your safety you will be signed out in <b>${mm}:${ss}</b>.</p>
      <div class="dialog-actions">
        <button type="button" class="default" data-testid="stay-signed-in" onClick=${() => refreshSession().catch(() => {})}>Stay signed in</button>
        <button type="button" onClick=${logout}>Sign out now</button>
      </div>
    </div>
  </div>`;
}

export function Desktop() {
  const convs = [...state.convs.values()];
  return html`<div class="desktop" data-testid="desktop">
    <div class="windows">
      <${ContactList} />
      ${convs.map((c) => html`<${ConversationWindow} key=${c.roomId} conv=${c} />`)}
    </div>
    <${SessionWarning} />
    <${Toasts} />
    <${Taskbar} />
  </div>`;
}

export function SignedOut() {
  return html`<div class="signin-screen">
    <section class="window sb-window signed-out is-focused" data-testid="signed-out" role="alertdialog" aria-labelledby="so-title">
      <div class="title-bar"><div class="title-bar-text" id="so-title"><${Logo} size=${16} /><span class="title-text">Switchboard</span></div></div>
      <div class="window-body">
        <div class="so-head"><span class="so-icon" aria-hidden="true"></span><h1>You have been signed out</h1></div>
        <p data-testid="signed-out-reason">${state.endedReason}</p>
        <p>Your conversations are saved. Sign in again to pick up where you left off.</p>
        <div class="dialog-actions"><button type="button" class="default" data-testid="sign-in-again" onClick=${backToSignIn}>Sign in again</button></div>
      </div>
    </section>
  </div>`;
}

export function Splash() {
  return html`<div class="splash" data-testid="splash"><${Logo} size=${64} /><div class="wordmark">Switchboard</div><div class="splash-bar"><span></span></div></div>`;
}

