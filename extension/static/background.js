// SelfOS background (Chrome: module service worker; Firefox: module background script).
// A shim: it registers the listeners synchronously (a woken service worker must find them
// at once), checks who is talking, and hands the message to Rust, one at a time.
import init, { handle_message, on_alarm } from './pkg/selfos_extension.js';

const ready = init({ module_or_path: new URL('./pkg/selfos_extension_bg.wasm', import.meta.url) });
let queue = Promise.resolve();
// The vault service handles one request at a time; later ones wait their turn.
const serial = (job) => (queue = queue.then(() => ready).then(job, job));

// Only this extension's own pages (card frame, popup, options) may talk to the vault: never
// a content script, a web page or another extension.
const trusted = (sender) => {
  if (sender.id !== chrome.runtime.id || !sender.url) return false;
  const scheme = new URL(sender.url).protocol;
  return scheme === 'chrome-extension:' || scheme === 'moz-extension:';
};

chrome.runtime.onMessage.addListener((message, sender, reply) => {
  if (!trusted(sender)) return false;
  // The page's path tells the background what it may ask for (the card frame: only a card's
  // requests).
  serial(() => handle_message(message, new URL(sender.url).pathname)).then(reply, (e) =>
    reply({ ok: false, error: { code: 'internal', message: `SelfOS failed: ${e}` } }));
  return true;
});

chrome.alarms.onAlarm.addListener((alarm) => { serial(() => on_alarm(alarm.name)); });

// A captured answer syncs within seconds, not at the next alarm (browsers fire alarms no
// sooner than 30 s out): the background calls this when it schedules a sync soon; the alarm
// stays as the fallback if the worker is stopped first. Repeated captures push it back.
let soon = 0;
globalThis.selfosSyncSoon = () => {
  clearTimeout(soon);
  soon = setTimeout(() => serial(() => on_alarm('sync-soon')), 2000);
};
