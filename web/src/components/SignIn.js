// The sign-in window: pick a seeded account or type a guest name, choose the starting status, pass the Turnstile
// check when the server asks for one, and sign in.
import { useEffect, useRef, useState } from 'preact/hooks';
import { html } from '../html.js';
import { state } from '../store.js';
import { login, retryBoot, STATUSES } from '../session.js';
import { Avatar, Logo, StatusDot } from './bits.js';

const TURNSTILE_SRC = 'https://challenges.cloudflare.com/turnstile/v0/api.js?render=explicit';
const GUEST_RE = /^[A-Za-z0-9](?:[A-Za-z0-9-]|_(?!_)){1,18}[A-Za-z0-9]$/;

let turnstileLoad = null;
function loadTurnstile() {
  if (window.turnstile) return Promise.resolve(window.turnstile);
  if (!turnstileLoad) {
    turnstileLoad = new Promise((resolve, reject) => {
      const s = document.createElement('script');
      s.src = TURNSTILE_SRC;
      s.async = true;
      s.onload = () => (window.turnstile ? resolve(window.turnstile) : reject(new Error('no turnstile')));
      s.onerror = () => {
        turnstileLoad = null;
        reject(new Error('load failed'));
      };
      document.head.appendChild(s);
    });
  }
  return turnstileLoad;
}

function useTurnstile(siteKey) {
  const ref = useRef(null);
  const widget = useRef(null);
  const [token, setToken] = useState('');
  const [error, setError] = useState('');
  useEffect(() => {
    if (!siteKey) return undefined;
    let cancelled = false;
    loadTurnstile()
      .then((ts) => {
        if (cancelled || !ref.current) return;
        widget.current = ts.render(ref.current, {
          sitekey: siteKey,
          callback: (t) => {
            setToken(t);
            setError('');
          },
          'expired-callback': () => setToken(''),
          'error-callback': () => setError('The human check failed to load. Reload the page to try again.'),
        });
      })
      .catch(() => setError('The human check could not be loaded. Check your connection, then reload the page.'));
    return () => {
      cancelled = true;
      if (widget.current !== null && window.turnstile) window.turnstile.remove(widget.current);
      widget.current = null;
    };
  }, [siteKey]);
  const reset = () => {
    setToken('');
    if (widget.current !== null && window.turnstile) window.turnstile.reset(widget.current);
  };
  return { ref, token, error, reset };
}

export function SignIn() {
  const people = [...state.users.values()].filter((u) => !u.isAiBot && !u.isGuest);
  const [mode, setMode] = useState('account');
  const [userId, setUserId] = useState(() => localStorage.getItem('switchboard.lastAccount') || '');
  const [guest, setGuest] = useState('');
  const [status, setStatus] = useState('online');
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState('');
  const siteKey = state.config.TURNSTILE_SITE_KEY || '';
  const ts = useTurnstile(siteKey);

  const chosen = people.find((u) => u.id === userId) || people[0];
  const notice = state.signinNotice;

  const submit = async (e) => {
    e.preventDefault();
    setError('');
    if (mode === 'guest') {
      if (!GUEST_RE.test(guest)) {
        setError('Guest names are 3–20 characters: letters, digits, "-" or single "_", starting and ending with a letter or digit.');
        return;
      }
    } else if (!chosen) {
      setError('No accounts are available. Try a guest name instead.');
      return;
    }
    if (siteKey && !ts.token) {
      setError('Please complete the human check above first.');
      return;
    }
    setBusy(true);
    try {
      if (mode === 'account') localStorage.setItem('switchboard.lastAccount', chosen.id);
      await login(mode === 'guest' ? { username: guest, token: ts.token, status } : { userId: chosen.id, token: ts.token, status });
    } catch (err) {
      setError(err.message);
      if (siteKey) ts.reset();
      setBusy(false);
    }
  };

  return html`<div class="signin-screen">
    <section class="window sb-window signin-window is-focused" data-testid="signin-window" aria-label="Sign in to Switchboard">
      <div class="title-bar"><div class="title-bar-text"><${Logo} size=${16} /><span class="title-text">Switchboard</span></div></div>
      <div class="window-body signin-body">
        <div class="signin-banner">
          <${Logo} size=${44} />
          <div><div class="wordmark">Switchboard</div><div class="tagline">Your friends are only a click away.</div></div>
        </div>
        <div class="signin-picture">
          <${Avatar} id=${mode === 'guest' ? 'generic' : chosen && chosen.avatarId} size=${96} status=${status} testid="signin-picture" />
        </div>
        ${state.bootError &&
        html`<div class="notice notice-error" role="alert" data-testid="boot-error">
          <p>${state.bootError}</p><button type="button" onClick=${retryBoot}>Try again</button></div>`}
        ${notice && html`<div class=${`notice notice-${notice.kind}`} role="status" data-testid="signin-notice">${notice.text}</div>`}
        <form class="signin-form" onSubmit=${submit} novalidate>
          <fieldset class="signin-mode">
            <legend>Sign in with</legend>
            <div class="field-row">
              <input type="radio" id="mode-account" name="mode" checked=${mode === 'account'} onChange=${() => setMode('account')} data-testid="signin-mode-account" />
              <label for="mode-account">An account</label>
              <input type="radio" id="mode-guest" name="mode" checked=${mode === 'guest'} onChange=${() => setMode('guest')} data-testid="signin-mode-guest" />
              <label for="mode-guest">A guest name</label>
            </div>
          </fieldset>
          ${mode === 'account'
            ? html`<div class="field-stacked">
                <label for="signin-account">Account:</label>
                <select id="signin-account" data-testid="signin-account" value=${chosen ? chosen.id : ''} onChange=${(e) => setUserId(e.currentTarget.value)}>
                  ${people.map((u) => html`<option value=${u.id}>${u.displayName} (${u.email || u.id})</option>`)}
                </select>
              </div>`
            : html`<div class="field-stacked">
                <label for="signin-guest">Guest name:</label>
                <input id="signin-guest" type="text" autocomplete="nickname" maxlength="20" placeholder="e.g. sk8er_kid"
                  data-testid="signin-guest-name" value=${guest} onInput=${(e) => setGuest(e.currentTarget.value)} />
                <div class="hint">3–20 letters, digits, - or _</div>
              </div>`}
          <div class="field-stacked">
            <label for="signin-status">Sign in as:</label>
            <div class="status-select">
              <${StatusDot} status=${status} title=${STATUSES.find((x) => x.id === status).label} />
              <select id="signin-status" data-testid="signin-status" value=${status} onChange=${(e) => setStatus(e.currentTarget.value)}>
                ${STATUSES.map((s) => html`<option value=${s.id}>${s.label}</option>`)}
              </select>
            </div>
          </div>
          ${siteKey && html`<div class="turnstile-box" data-testid="turnstile" ref=${ts.ref}></div>`}
          ${(error || ts.error) && html`<div class="notice notice-error" role="alert" data-testid="signin-error">${error || ts.error}</div>`}
          <div class="signin-actions">
            <button type="submit" class="default" data-testid="signin-submit" disabled=${busy}>${busy ? 'Signing in…' : 'Sign in'}</button>
          </div>
        </form>
        <p class="signin-foot">New here? Pick any account to look around, or join as a guest. Open a second browser window to chat with yourself.</p>
      </div>
    </section>
  </div>`;
}
