// The contact list window: your picture, name, status and personal message; then AI bots, chat rooms, online and
// offline contacts in collapsible groups, each with live status, picture, personal message and unread badge.
import { useRef, useState } from 'preact/hooks';
import { html } from '../html.js';
import { state, changed, dmRoomId } from '../store.js';
import { logout, statusLabel, statusText, STATUSES } from '../session.js';
import { setStatus, updateProfile } from '../presence.js';
import { openConversation, notifyError } from '../conversations.js';
import { Avatar, StatusDot, RichText, ConnIndicator, Logo } from './bits.js';
import { Menu } from './Menu.js';
import { Window } from './Window.js';
import { SpeakerIcon } from './icons.js';

function EditableText({ value, placeholder, testid, maxLength, onSave, className, label }) {
  const [editing, setEditing] = useState(false);
  const [draft, setDraft] = useState('');
  const [err, setErr] = useState('');
  const inputRef = useRef(null);
  const start = () => {
    setDraft(value || '');
    setErr('');
    setEditing(true);
    requestAnimationFrame(() => inputRef.current && inputRef.current.select());
  };
  const save = async () => {
    if (!editing) return;
    const next = draft.trim();
    if (next === (value || '').trim()) {
      setEditing(false);
      return;
    }
    try {
      await onSave(next);
      setEditing(false);
    } catch (e) {
      setErr(e.message);
    }
  };
  if (!editing) {
    return html`<button type="button" class=${`flat editable ${className || ''} ${value ? '' : 'is-empty'}`} data-testid=${testid}
      title=${`Click to change your ${label}`} onClick=${start}>${value ? html`<${RichText} text=${value} />` : placeholder}</button>`;
  }
  return html`<span class="editable-wrap">
    <input ref=${inputRef} class=${`editable-input ${className || ''}`} data-testid=${`${testid}-input`} aria-label=${label} value=${draft}
      maxlength=${maxLength} onInput=${(e) => setDraft(e.currentTarget.value)} onBlur=${save}
      onKeyDown=${(e) => {
        if (e.key === 'Enter') {
          e.preventDefault();
          save();
        } else if (e.key === 'Escape') {
          e.preventDefault();
          setEditing(false);
        }
      }} />
    ${err && html`<span class="edit-error" role="alert" data-testid=${`${testid}-error`}>${err}</span>`}
  </span>`;
}

const RoomIcon = () => html`<svg class="room-icon" viewBox="0 0 20 20" aria-hidden="true">
  <circle cx="7" cy="6" r="3.2" fill="#3d8ef0" stroke="#0b3a8c" stroke-width=".8"/><path d="M1.5 16q0-6 5.5-6t5.5 6z" fill="#3d8ef0" stroke="#0b3a8c" stroke-width=".8"/>
  <circle cx="13.5" cy="7" r="3" fill="#5cc83a" stroke="#1d6b12" stroke-width=".8"/><path d="M8.5 17q0-5.5 5-5.5t5 5.5z" fill="#5cc83a" stroke="#1d6b12" stroke-width=".8"/></svg>`;

function Group({ id, title, count, total, children }) {
  const collapsed = state.collapsed.has(id);
  const toggle = () => {
    if (collapsed) state.collapsed.delete(id);
    else state.collapsed.add(id);
    localStorage.setItem('switchboard.collapsed', JSON.stringify([...state.collapsed]));
    changed();
  };
  return html`<div class="group" data-testid=${`group-${id}`}>
    <button type="button" class="flat group-head" aria-expanded=${collapsed ? 'false' : 'true'} data-testid=${`group-toggle-${id}`} onClick=${toggle}>
      <span class=${`chev ${collapsed ? '' : 'open'}`} aria-hidden="true"></span>
      <span class="group-title">${title}</span> <span class="group-count">(${total === undefined ? count : `${count}/${total}`})</span>
    </button>
    ${!collapsed && html`<div class="group-items" role="list">${children}</div>`}
  </div>`;
}

function Badge({ n }) {
  if (!n) return null;
  return html`<span class="badge" data-testid="unread-badge" aria-label=${`${n} unread`}>${n > 99 ? '99+' : n}</span>`;
}

function ContactRow({ u }) {
  const roomId = dmRoomId(state.me.id, u.id);
  const unread = state.unread.get(roomId) || 0;
  const status = u.status || 'offline';
  return html`<div role="listitem">
    <button type="button" class=${`flat contact ${status === 'offline' ? 'is-offline' : ''} ${unread ? 'has-unread' : ''}`}
      data-testid=${`contact-${u.id}`} data-status=${status} onClick=${() => openConversation(roomId, { focus: true })}
      title=${`Send an instant message to ${u.displayName || u.id}`}>
      <${StatusDot} status=${status} />
      <${Avatar} id=${u.avatarId} size=${26} status=${status} />
      <span class="contact-text">
        <span class="contact-name" data-testid="contact-name">${u.displayName || u.id}</span>
        ${u.isAiBot && html`<span class="bot-tag">bot</span>`}
        ${u.personalMessage && html`<span class="contact-pm" data-testid="contact-pm"> – <${RichText} text=${u.personalMessage} /></span>`}
        ${status !== 'online' && status !== 'offline' && html`<span class="contact-status"> (${statusText(status)})</span>`}
      </span>
      <${Badge} n=${unread} />
    </button>
  </div>`;
}

function RoomRow({ room }) {
  const unread = state.unread.get(room.id) || 0;
  const conv = state.convs.get(room.id);
  const here = conv && conv.participants.length;
  return html`<div role="listitem">
    <button type="button" class=${`flat contact room ${unread ? 'has-unread' : ''}`} data-testid=${`room-${room.id}`}
      onClick=${() => openConversation(room.id, { focus: true })} title=${`Join ${room.name}`}>
      <${RoomIcon} />
      <span class="contact-text"><span class="contact-name">${room.name}</span>
        ${here ? html`<span class="contact-pm"> – ${here} here</span>` : html`<span class="contact-pm"> – group chat</span>`}</span>
      <${Badge} n=${unread} />
    </button>
  </div>`;
}

export function ContactList() {
  const me = state.me;
  if (!state.contactsPos) {
    const h = Math.max(420, Math.min(720, (window.innerHeight || 700) - 56));
    state.contactsPos = { x: 16, y: 14, w: 300, h };
  }
  const filter = state.filter.trim().toLowerCase();
  const match = (u) => !filter || (u.displayName || u.id).toLowerCase().includes(filter);
  const all = [...state.users.values()].filter((u) => u.id !== me.id);
  const byName = (a, b) => (a.displayName || a.id).localeCompare(b.displayName || b.id);
  const bots = all.filter((u) => u.isAiBot).filter(match).sort(byName);
  const humans = all.filter((u) => !u.isAiBot);
  const online = humans.filter((u) => u.status && u.status !== 'offline').filter(match).sort(byName);
  const offline = humans.filter((u) => !u.status || u.status === 'offline').filter(match).sort(byName);
  const rooms = state.rooms.filter((r) => !filter || r.name.toLowerCase().includes(filter));

  const statusItems = STATUSES.map((s) => ({
    label: s.label,
    icon: html`<${StatusDot} status=${s.id} title=${s.label} />`,
    checked: me.status === s.id,
    testid: `status-${s.id}`,
    onSelect: () => setStatus(s.id).catch((e) => notifyError(e.message)),
  }));
  const toggleSound = () => {
    state.soundOn = !state.soundOn;
    localStorage.setItem('switchboard.sound', state.soundOn ? 'on' : 'off');
    changed();
  };

  return html`<${Window} id="contacts" title="Switchboard" icon=${html`<${Logo} size=${16} />`} pos=${state.contactsPos}
      minimized=${state.contactsMinimized} focused=${state.focused === 'contacts'} zIndex=${10 + state.order.indexOf('contacts')}
      className="contacts-window" testid="contact-list" canMaximize=${false}>
    <div class="menubar" role="menubar">
      <${Menu} label="File" testid="menu-file" items=${[
        { label: 'Change status…', disabled: true },
        ...statusItems,
        { separator: true },
        { label: 'Sign out', testid: 'sign-out-menu', onSelect: logout },
      ]} />
      <${Menu} label="Tools" testid="menu-tools" items=${[
        { label: state.soundOn ? 'Turn sounds off' : 'Turn sounds on', testid: 'toggle-sound', onSelect: toggleSound },
      ]} />
    </div>
    <div class="me-card" data-testid="me-card">
      <${Avatar} id=${me.avatarId} size=${56} status=${me.status} testid="my-picture" />
      <div class="me-info">
        <div class="me-line">
          <${EditableText} value=${me.displayName} testid="my-name" label="display name" className="me-name" maxLength=${50}
            onSave=${(v) => {
              if (!v) throw new Error('Your display name cannot be empty.');
              return updateProfile({ displayName: v });
            }} />
        </div>
        <${Menu} className="status-menu" label=${html`<${StatusDot} status=${me.status} title=${statusLabel(me.status)} /><span data-testid="my-status">${statusLabel(me.status)}</span><span class="caret">▾</span>`}
          testid="status-menu-button" menuTestid="status-menu" items=${statusItems} title="Change your status" />
        <${EditableText} value=${me.personalMessage} placeholder="<Share a quick message>" testid="my-personal-message"
          label="personal message" className="me-pm" maxLength=${128} onSave=${(v) => updateProfile({ personalMessage: v })} />
      </div>
    </div>
    <div class="search-row">
      <input type="search" placeholder="Find a contact…" aria-label="Find a contact" data-testid="contact-search" value=${state.filter}
        onInput=${(e) => {
          state.filter = e.currentTarget.value;
          changed();
        }} />
    </div>
    <div class="contact-tree" data-testid="contact-tree">
      <${Group} id="bots" title="AI Bots" count=${bots.length}>${bots.map((u) => html`<${ContactRow} key=${u.id} u=${u} />`)}</${Group}>
      <${Group} id="rooms" title="Chat Rooms" count=${rooms.length}>${rooms.map((r) => html`<${RoomRow} key=${r.id} room=${r} />`)}</${Group}>
      <${Group} id="online" title="Online" count=${online.length} total=${humans.length}>
        ${online.length ? online.map((u) => html`<${ContactRow} key=${u.id} u=${u} />`) : html`<div class="empty-group">Nobody else is online right now.</div>`}
      </${Group}>
      <${Group} id="offline" title="Offline" count=${offline.length}>${offline.map((u) => html`<${ContactRow} key=${u.id} u=${u} />`)}</${Group}>
    </div>
    <div class="status-bar contacts-status">
      <div class="status-bar-field"><${ConnIndicator} conn=${state.presenceConn} /></div>
      <div class="status-bar-field status-actions">
        <button type="button" class="flat link-button" data-testid="sound-toggle" aria-pressed=${state.soundOn ? 'true' : 'false'} onClick=${toggleSound}
          title=${state.soundOn ? 'Sounds are on' : 'Sounds are off'}><${SpeakerIcon} on=${state.soundOn} />${state.soundOn ? 'Sound on' : 'Sound off'}</button>
        <button type="button" class="flat link-button" data-testid="sign-out" onClick=${logout}>Sign out</button>
      </div>
    </div>
  </${Window}>`;
}
