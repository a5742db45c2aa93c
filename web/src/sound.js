// Every sound is synthesised with WebAudio at play time: no audio files ship with the UI.
import { state } from './store.js';

let ctx = null;

function audio() {
  if (!ctx) {
    const Ctor = window.AudioContext || window.webkitAudioContext;
    if (!Ctor) return null;
    try {
      ctx = new Ctor();
    } catch {
      return null;
    }
  }
  if (ctx.state === 'suspended') ctx.resume().catch(() => {});
  return ctx;
}

// Browsers only start audio after a user gesture; the first click or key press unlocks it.
export function installAudioUnlock() {
  const unlock = () => {
    audio();
    window.removeEventListener('pointerdown', unlock);
    window.removeEventListener('keydown', unlock);
  };
  window.addEventListener('pointerdown', unlock);
  window.addEventListener('keydown', unlock);
}

function tone(c, out, { freq, at, dur, type = 'sine', gain = 0.2, to }) {
  const o = c.createOscillator();
  const g = c.createGain();
  o.type = type;
  o.frequency.setValueAtTime(freq, at);
  if (to) o.frequency.exponentialRampToValueAtTime(to, at + dur);
  g.gain.setValueAtTime(0.0001, at);
  g.gain.exponentialRampToValueAtTime(gain, at + 0.012);
  g.gain.exponentialRampToValueAtTime(0.0001, at + dur);
  o.connect(g).connect(out);
  o.start(at);
  o.stop(at + dur + 0.05);
}

function play(name, build) {
  document.body.dataset.lastSound = name; // lets tests and curious people see what would have played
  if (!state.soundOn) return;
  const c = audio();
  if (!c || c.state !== 'running') return;
  const master = c.createGain();
  master.gain.value = 0.6;
  master.connect(c.destination);
  build(c, master, c.currentTime + 0.01);
}

// New message: a soft two-note bell.
export const playDing = () =>
  play('message', (c, out, t) => {
    tone(c, out, { freq: 987.77, at: t, dur: 0.35, gain: 0.22 });
    tone(c, out, { freq: 1975.5, at: t, dur: 0.2, gain: 0.05, type: 'triangle' });
    tone(c, out, { freq: 1318.5, at: t + 0.11, dur: 0.55, gain: 0.2 });
    tone(c, out, { freq: 2637, at: t + 0.11, dur: 0.3, gain: 0.04, type: 'triangle' });
  });

// A contact signed in: a rising major arpeggio.
export const playChime = () =>
  play('signin', (c, out, t) => {
    [523.25, 659.25, 783.99, 1046.5].forEach((f, i) =>
      tone(c, out, { freq: f, at: t + i * 0.09, dur: 0.5 - i * 0.05, gain: 0.14, type: 'triangle' }),
    );
  });

// Nudge: a low, wobbling buzz like a phone rattling on a desk.
export const playRumble = () =>
  play('nudge', (c, out, t) => {
    const dur = 0.75;
    const o = c.createOscillator();
    o.type = 'sawtooth';
    o.frequency.setValueAtTime(70, t);
    o.frequency.linearRampToValueAtTime(52, t + dur);
    const lp = c.createBiquadFilter();
    lp.type = 'lowpass';
    lp.frequency.value = 420;
    const amp = c.createGain();
    amp.gain.setValueAtTime(0.0001, t);
    amp.gain.exponentialRampToValueAtTime(0.5, t + 0.03);
    amp.gain.setValueAtTime(0.5, t + dur - 0.15);
    amp.gain.exponentialRampToValueAtTime(0.0001, t + dur);
    const lfo = c.createOscillator();
    lfo.frequency.value = 18;
    const lfoGain = c.createGain();
    lfoGain.gain.value = 0.35;
    lfo.connect(lfoGain).connect(amp.gain);
    o.connect(lp).connect(amp).connect(out);
    o.start(t);
    lfo.start(t);
    o.stop(t + dur + 0.05);
    lfo.stop(t + dur + 0.05);
  });

// Wink: a quick sparkle of high notes.
export const playSparkle = () =>
  play('wink', (c, out, t) => {
    [1567.98, 2093, 2637, 3135.96, 2637].forEach((f, i) =>
      tone(c, out, { freq: f, at: t + i * 0.06, dur: 0.25, gain: 0.06, type: 'sine' }),
    );
  });
