// SelfOS background (Chrome: module service worker; Firefox: module background script).
// A shim: it registers the listeners synchronously (a woken service worker must find them
// at once), checks who is talking, and hands the message to Rust, one at a time.
import init, { handle_message, on_alarm, on_idle_state, on_start } from './pkg/selfos_extension.js';

const ready = init({ module_or_path: new URL('./pkg/selfos_extension_bg.wasm', import.meta.url) });
let queue = Promise.resolve();
// The vault service handles one request at a time; later ones wait their turn.
const serial = (job) => (queue = queue.then(() => ready).then(job, job));

// Who may talk to the vault: this extension's own pages (popup, options), or this
// extension's content script in a tab, relaying its card frame's requests (the frame is a
// sandboxed page without extension APIs). Never a web page or another extension. Rust
// decides what each may ask: a tab only a card's requests, for its own origin.
const from = (sender) => {
  if (sender.id !== chrome.runtime.id || !sender.url) return null;
  const url = new URL(sender.url);
  if (url.protocol === 'chrome-extension:' || url.protocol === 'moz-extension:') return { path: url.pathname };
  // A content script: its sender is the tab's top frame (it runs in no other).
  if (sender.tab && sender.frameId === 0 && /^https?:$/.test(url.protocol)) return { path: '', tab: url.origin };
  return null;
};

chrome.runtime.onMessage.addListener((message, sender, reply) => {
  const who = from(sender);
  if (!who) return false;
  serial(() => handle_message(message, who.path, who.tab)).then(reply, (e) =>
    reply({ ok: false, error: { code: 'internal', message: `SelfOS failed: ${e}` } }));
  return true;
});

// The toolbar badge follows the vault from the moment the background runs.
serial(() => on_start());

// The computer locking locks the vault (when the user keeps that choice, the default).
chrome.idle?.onStateChanged.addListener((state) => { serial(() => on_idle_state(state)); });

chrome.alarms.onAlarm.addListener((alarm) => { serial(() => on_alarm(alarm.name)); });

// A captured answer syncs within seconds, not at the next alarm (browsers fire alarms no
// sooner than 30 s out): the background calls this when it schedules a sync soon; the alarm
// stays as the fallback if the worker is stopped first. Repeated captures push it back.
let soon = 0;
globalThis.selfosSyncSoon = () => {
  clearTimeout(soon);
  soon = setTimeout(() => serial(() => on_alarm('sync-soon')), 2000);
};
