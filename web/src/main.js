// Entry point: styles, the root component, and global listeners.
import 'xp.css/dist/XP.css';
import './styles.css';
import { render } from 'preact';
import { useEffect, useState } from 'preact/hooks';
import { html } from './html.js';
import { state, subscribe } from './store.js';
import { boot } from './session.js';
import { installAudioUnlock } from './sound.js';
import { onDocumentFocus } from './conversations.js';
import { SignIn } from './components/SignIn.js';
import { Desktop, SignedOut, Splash } from './components/Desktop.js';

function App() {
  const [, setVersion] = useState(0);
  useEffect(() => subscribe(() => setVersion((v) => v + 1)), []);
  document.body.dataset.phase = state.phase;
  switch (state.phase) {
    case 'signin':
      return html`<${SignIn} />`;
    case 'main':
      return html`<${Desktop} />`;
    case 'ended':
      return html`<${SignedOut} />`;
    default:
      return html`<${Splash} />`;
  }
}

installAudioUnlock();
window.addEventListener('focus', onDocumentFocus);
document.addEventListener('visibilitychange', () => {
  if (document.visibilityState === 'visible') onDocumentFocus();
});
render(html`<${App} />`, document.getElementById('app'));
boot();
