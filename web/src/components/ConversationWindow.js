// A conversation window: toolbar (nudge, winks, emoticons), the "To:" bar, the message history with "Name says:"
// lines, the compose box, display pictures, and a status bar with the typing indicator.
import { useEffect, useLayoutEffect, useRef } from 'preact/hooks';
import { html } from '../html.js';
import { state, changed, userName } from '../store.js';
import { statusText } from '../session.js';
import {
  convTitle,
  closeConversation,
  sendChat,
  sendNudge,
  sendWink,
  onDraftInput,
  loadOlder,
  playWink,
  retrySend,
  addSystem,
} from '../conversations.js';
import { EMOTICONS } from '../art/emoticons.js';
import { WinkOverlay, WinkThumb, winkName } from '../art/winks.js';
import { Avatar, StatusDot, RichText, ConnIndicator, formatTime, formatFull } from './bits.js';
import { usePopup, popupKeys, focusFirstItem } from './Menu.js';
import { Window } from './Window.js';
import { NudgeIcon, WinkIcon, SmileIcon, InfoIcon, WarnIcon, PeopleIcon } from './icons.js';

const GROUP_GAP_MS = 5 * 60_000;

function Ticks({ status }) {
  const two = status === 'delivered' || status === 'read';
  return html`<svg class=${`ticks tk-${status}`} viewBox="0 0 18 10" aria-hidden="true">
    <path d="M1 5.5 4 8.5 10 1.5" fill="none" stroke-width="1.6" stroke-linecap="round" stroke-linejoin="round"/>
    ${two && html`<path d="M7 8.5 13.5 1.5" fill="none" stroke-width="1.6" stroke-linecap="round"/>`}
  </svg>`;
}

const STATUS_TEXT = { sending: 'Sending…', sent: 'Sent', delivered: 'Delivered', read: 'Read' };

function Delivery({ conv, it, showLabel }) {
  if (it.failed) {
    return html`<span class="delivery failed" data-testid="delivery-status" data-status="failed" role="alert">
      <${WarnIcon} /> Not delivered: ${it.failed}
      <button type="button" class="flat link-button" onClick=${() => retrySend(conv, it.id)}>Try again</button></span>`;
  }
  const status = it.pending ? 'sending' : it.status || 'sent';
  return html`<span class=${`delivery st-${status}`} data-testid="delivery-status" data-status=${status} title=${STATUS_TEXT[status]}>
    <${Ticks} status=${status} />${showLabel ? html`<span class="delivery-label">${STATUS_TEXT[status]}</span>` : null}</span>`;
}

function Lines({ conv }) {
  const me = state.me;
  const isGroup = conv.kind === 'group';
  let lastOwn = null;
  for (let i = conv.items.length - 1; i >= 0; i--) {
    const it = conv.items[i];
    if (it.kind === 'msg' && it.senderId === me.id && !it.isNudge && !it.isWink && it.type !== 'system') {
      lastOwn = it;
      break;
    }
  }
  let prevSender = null;
  let prevTs = 0;
  return conv.items.map((it) => {
    if (it.kind === 'sys' || it.type === 'system') {
      prevSender = null;
      const err = it.level === 'error';
      return html`<div key=${it.key || it.id} class=${`line sys ${err ? 'sys-error' : ''}`} data-testid="system-line" title=${formatFull(it.timestamp)}>
        ${err ? html`<${WarnIcon} />` : html`<${InfoIcon} />`}<span><${RichText} text=${it.content} /></span></div>`;
    }
    const own = it.senderId === me.id;
    const name = own ? me.displayName : it.displayName || userName(it.senderId);
    if (it.isNudge) {
      prevSender = null;
      const text = own ? 'You have just sent a nudge!' : isGroup ? `${name} sent a nudge!` : `${name} just sent you a nudge!`;
      return html`<div key=${it.id} class="line sys nudge-line" data-testid="nudge-line" title=${formatFull(it.timestamp)}>
        <span class="nudge-mark" aria-hidden="true"></span><span>${text}</span></div>`;
    }
    if (it.isWink) {
      prevSender = null;
      return html`<div key=${it.id} class="line sys wink-line" data-testid="wink-line" title=${formatFull(it.timestamp)}>
        <${WinkThumb} winkId=${it.winkId} /><span>${own ? 'You sent a wink: ' : `${name} sent a wink: `}<b>${winkName(it.winkId)}</b></span>
        <button type="button" class="flat link-button" onClick=${() => playWink(conv, it.winkId)}>Play again</button></div>`;
    }
    const head = prevSender !== it.senderId || it.timestamp - prevTs > GROUP_GAP_MS;
    prevSender = it.senderId;
    prevTs = it.timestamp;
    return html`<div key=${it.id} class=${`line msg ${own ? 'own' : 'other'} ${it.pending ? 'pending' : ''} ${it.streaming ? 'streaming' : ''}`}
        data-testid="message" data-id=${it.id} data-sender=${it.senderId} data-own=${own ? 'true' : 'false'}>
      ${head && html`<div class="msg-head"><span class="says" data-testid="message-says">${name} says:</span>
        <span class="msg-time" title=${formatFull(it.timestamp)}>(${formatTime(it.timestamp)})</span></div>`}
      <div class="msg-body" title=${formatFull(it.timestamp)}>
        <span class="msg-text" data-testid="message-text"><${RichText} text=${it.content} /></span>
        ${it.streaming && html`<span class="stream-cursor" aria-hidden="true"></span>`}
        ${own && html`<${Delivery} conv=${conv} it=${it} showLabel=${it === lastOwn || it.pending || !!it.failed} />`}
      </div>
    </div>`;
  });
}

function EmoticonPicker({ onPick }) {
  const popup = usePopup();
  return html`<div class="picker" ref=${popup.rootRef}>
    <button type="button" class="flat tool" ref=${popup.buttonRef} data-testid="emoticon-button" aria-haspopup="true"
      aria-expanded=${popup.open ? 'true' : 'false'} title="Insert an emoticon"
      onClick=${() => {
        popup.setOpen(!popup.open);
        if (!popup.open) focusFirstItem(popup.rootRef.current);
      }}><${SmileIcon} /><span>Emoticons</span></button>
    ${popup.open &&
    html`<div class="popup emoticon-grid" role="menu" aria-label="Emoticons" data-testid="emoticon-picker" onKeyDown=${(e) => popupKeys(e, popup, 5)}>
      ${EMOTICONS.map(
        (e) => html`<button type="button" role="menuitem" data-menuitem class="emo-cell" title=${`${e.name}  ${e.code}`}
          aria-label=${`${e.name} ${e.code}`} data-testid=${`emoticon-${e.name.replace(/\s+/g, '-')}`}
          onClick=${() => {
            popup.close(false);
            onPick(e.code);
          }}><img src=${e.url} alt="" width="19" height="19" /></button>`,
      )}
    </div>`}
  </div>`;
}

function WinkPicker({ onPick }) {
  const popup = usePopup();
  const winks = state.config.winks || [];
  return html`<div class="picker" ref=${popup.rootRef}>
    <button type="button" class="flat tool" ref=${popup.buttonRef} data-testid="wink-button" aria-haspopup="true"
      aria-expanded=${popup.open ? 'true' : 'false'} title="Send a wink"
      onClick=${() => {
        popup.setOpen(!popup.open);
        if (!popup.open) focusFirstItem(popup.rootRef.current);
      }}><${WinkIcon} /><span>Winks</span></button>
    ${popup.open &&
    html`<div class="popup wink-list" role="menu" aria-label="Winks" data-testid="wink-picker" onKeyDown=${(e) => popupKeys(e, popup, 2)}>
      ${winks.map(
        (w) => html`<button type="button" role="menuitem" data-menuitem class="wink-cell" data-testid=${`wink-${w}`}
          onClick=${() => {
            popup.close(true);
            onPick(w);
          }}><${WinkThumb} winkId=${w} /><span>${winkName(w)}</span></button>`,
      )}
    </div>`}
  </div>`;
}

function ToBar({ conv }) {
  if (conv.kind === 'group') {
    const n = conv.participants.length;
    return html`<div class="conv-to" data-testid="conv-to"><span class="to-label">Room:</span> <b>${convTitle(conv)}</b>
      <span class="to-extra">${n ? ` · ${n} ${n === 1 ? 'person' : 'people'} here` : ''}</span></div>`;
  }
  const u = state.users.get(conv.peerId) || { id: conv.peerId };
  return html`<div class="conv-to" data-testid="conv-to">
    <span class="to-label">To:</span> <${StatusDot} status=${u.status} /> <b data-testid="conv-peer-name">${u.displayName || conv.peerId}</b>
    ${u.isAiBot ? html` <span class="bot-tag">AI bot</span>` : u.email ? html` <span class="to-email">${`<${u.email}>`}</span>` : null}
    <span class="to-extra" data-testid="conv-peer-status"> (${statusText(u.status)})</span>
    ${u.personalMessage && html`<div class="to-pm"><${RichText} text=${u.personalMessage} /></div>`}
  </div>`;
}

function Side({ conv }) {
  const me = state.me;
  if (conv.kind === 'group') {
    return html`<aside class="conv-side">
      <div class="side-title">People here</div>
      <ul class="participants" data-testid="participants">
        ${conv.participants.map(
          (p) => html`<li key=${p.id}><${StatusDot} status=${p.status} />
            <span class="p-name">${p.id === me.id ? `${me.displayName} (you)` : p.displayName || userName(p.id)}</span></li>`,
        )}
      </ul>
      <div class="side-me"><${Avatar} id=${me.avatarId} size=${64} status=${me.status} /></div>
    </aside>`;
  }
  const u = state.users.get(conv.peerId) || {};
  return html`<aside class="conv-side">
    <div class="side-peer"><${Avatar} id=${u.avatarId} size=${96} status=${u.status} testid="peer-picture" /></div>
    <div class="side-me"><${Avatar} id=${me.avatarId} size=${64} status=${me.status} testid="own-picture" /></div>
  </aside>`;
}

function StatusLine({ conv }) {
  const typers = [...conv.typing.values()].map((t) => t.name);
  if (typers.length) {
    const text =
      typers.length === 1
        ? `${typers[0]} is typing...`
        : typers.length === 2
          ? `${typers[0]} and ${typers[1]} are typing...`
          : 'Several people are typing...';
    return html`<span class="typing" data-testid="typing-indicator" aria-live="polite"><span class="pencil" aria-hidden="true"></span>${text}</span>`;
  }
  if (conv.lastReceivedAt) return html`<span>Last message received at ${formatTime(conv.lastReceivedAt)}.</span>`;
  if (conv.kind === 'group') return html`<span>Tip: start a message with @ and a bot's name to ask it something.</span>`;
  return html`<span>Keep passwords and card numbers out of your chats.</span>`;
}

export function ConversationWindow({ conv }) {
  const histRef = useRef(null);
  const taRef = useRef(null);
  const atBottom = useRef(true);
  // `scrolledTo`: where the pane was after the last scroll event or the last scroll made here, to tell the reader's
  // own move up from the scroll events that the pinning below causes.
  const seen = useRef({ prependSeq: conv.prependSeq, height: 0, top: 0, count: 0, scrolledTo: 0 });
  const focused = state.focused === conv.roomId;
  const title = convTitle(conv);
  const peer = conv.kind === 'dm' ? state.users.get(conv.peerId) || {} : null;

  // Keep the view pinned to the newest line, or in place when older history is prepended.
  useLayoutEffect(() => {
    const el = histRef.current;
    if (!el) return;
    const s = seen.current;
    if (conv.prependSeq !== s.prependSeq) {
      el.scrollTop = el.scrollHeight - s.height + s.top;
      s.prependSeq = conv.prependSeq;
      s.scrolledTo = el.scrollTop;
    } else if (atBottom.current && (conv.items.length !== s.count || el.scrollHeight !== s.height)) {
      el.scrollTop = el.scrollHeight;
      s.scrolledTo = el.scrollTop;
    }
    s.height = el.scrollHeight;
    s.top = el.scrollTop;
    s.count = conv.items.length;
  });

  useEffect(() => {
    if (!focused || conv.minimized) return;
    const ta = taRef.current;
    const win = ta && ta.closest('.sb-window');
    if (ta && win && !win.contains(document.activeElement)) ta.focus({ preventScroll: true });
    if (win && window.matchMedia && window.matchMedia('(max-width: 640px)').matches) win.scrollIntoView({ block: 'nearest' });
  }, [focused, conv.minimized]);

  const onScroll = (e) => {
    const el = e.currentTarget;
    // Older history is for a reader who scrolls up to the top. Pinning the newest line into view fires scroll events
    // too, and when the history overflows the pane by less than 30 px it leaves scrollTop near 0: without this the
    // window loaded older pages by itself as soon as it opened.
    const movedUp = el.scrollTop < seen.current.scrolledTo;
    seen.current.scrolledTo = el.scrollTop;
    atBottom.current = el.scrollHeight - el.scrollTop - el.clientHeight < 40;
    seen.current.top = el.scrollTop;
    if (movedUp && el.scrollTop < 30 && conv.hasMore && conv.historyLoaded && !conv.loadingOlder) {
      seen.current.height = el.scrollHeight;
      loadOlder(conv);
    }
  };

  const submit = () => {
    const r = sendChat(conv, conv.draft || '');
    if (r.ok) {
      conv.draft = '';
      atBottom.current = true;
      if (taRef.current) taRef.current.value = '';
    } else if (r.error) {
      addSystem(conv, r.error, { level: 'error' });
      changed();
    }
  };

  const insert = (code) => {
    const ta = taRef.current;
    const v = conv.draft || '';
    const start = ta ? ta.selectionStart : v.length;
    const end = ta ? ta.selectionEnd : v.length;
    const before = v.slice(0, start);
    const pad = before && !/\s$/.test(before) ? ' ' : '';
    const next = `${before}${pad}${code} ${v.slice(end)}`;
    onDraftInput(conv, next);
    changed();
    requestAnimationFrame(() => {
      if (!ta) return;
      ta.value = next;
      const pos = before.length + pad.length + code.length + 1;
      ta.focus();
      ta.setSelectionRange(pos, pos);
    });
  };

  const attrs = {
    'data-room': conv.roomId,
    'data-shaking': conv.shaking ? 'true' : 'false',
    'data-shake-count': String(conv.shakeCount),
    'data-wink-count': String(conv.winkCount),
    'data-conn': conv.conn,
  };

  return html`<${Window} id=${conv.roomId} title=${`${title} - Conversation`} pos=${conv.pos} minimized=${conv.minimized}
      maximized=${conv.maximized} focused=${focused} zIndex=${10 + state.order.indexOf(conv.roomId)}
      className=${`conv-window ${conv.shaking ? 'shake' : ''}`} testid="conversation-window" attrs=${attrs}
      icon=${peer ? html`<${Avatar} id=${peer.avatarId} size=${16} frame=${false} />` : html`<${PeopleIcon} />`}
      onClose=${() => closeConversation(conv.roomId)} minSize=${{ w: 320, h: 320 }}>
    <div class="conv-toolbar" role="toolbar" aria-label="Conversation tools">
      <button type="button" class="flat tool" data-testid="nudge-button" title="Shake your contact's window" onClick=${() => sendNudge(conv)}>
        <${NudgeIcon} /><span>Nudge</span></button>
      <${WinkPicker} onPick=${(w) => sendWink(conv, w)} />
      <${EmoticonPicker} onPick=${insert} />
      <span class="toolbar-spacer"></span>
      <${ConnIndicator} conn=${conv.conn} testid="conv-connection" />
    </div>
    <${ToBar} conv=${conv} />
    <div class="conv-main">
      <div class="conv-left">
        <div class="history" ref=${histRef} onScroll=${onScroll} data-testid="history" role="log" aria-label="Messages">
          ${conv.hasMore && conv.historyLoaded && conv.items.length > 0 &&
          html`<div class="older">
            ${conv.loadingOlder
              ? html`<span data-testid="loading-older">Loading older messages…</span>`
              : html`<button type="button" class="flat link-button" data-testid="load-older" onClick=${() => {
                  seen.current.height = histRef.current ? histRef.current.scrollHeight : 0;
                  seen.current.top = histRef.current ? histRef.current.scrollTop : 0;
                  loadOlder(conv);
                }}>Show older messages</button>`}
            ${conv.olderError && html`<span class="older-error" role="alert">${conv.olderError}</span>`}
          </div>`}
          ${!conv.historyLoaded && conv.items.length === 0 && conv.conn !== 'connected' &&
          html`<div class="line sys"><${InfoIcon} /><span>Connecting to the conversation…</span></div>`}
          <${Lines} conv=${conv} />
        </div>
        <div class="compose">
          <textarea ref=${taRef} data-testid="compose" aria-label=${`Message to ${title}`} rows="3" maxlength="4000"
            placeholder="Type a message, then press Enter" value=${conv.draft}
            onInput=${(e) => {
              const had = !!(conv.draft || '').trim();
              onDraftInput(conv, e.currentTarget.value);
              if (had !== !!conv.draft.trim()) changed();
            }}
            onKeyDown=${(e) => {
              if (e.key === 'Enter' && !e.shiftKey && !e.isComposing) {
                e.preventDefault();
                submit();
              }
            }}></textarea>
          <button type="button" class="send-button" data-testid="send" disabled=${!(conv.draft || '').trim()} onClick=${submit}>Send</button>
        </div>
      </div>
      <${Side} conv=${conv} />
    </div>
    <div class="status-bar conv-status"><div class="status-bar-field" data-testid="conv-status"><${StatusLine} conv=${conv} /></div></div>
    ${conv.wink && html`<${WinkOverlay} key=${conv.wink.key} winkId=${conv.wink.winkId} />`}
  </${Window}>`;
}
