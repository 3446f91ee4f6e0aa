// Loads the Rust/WebAssembly app and starts it. (The CSP allows no inline scripts.)
import init, { start } from './pkg/selfos_webapp.js';

const boot = document.getElementById('boot');
try {
  await init({ module_or_path: new URL('./pkg/selfos_webapp_bg.wasm', import.meta.url) });
  boot?.remove();
  start();
} catch (e) {
  if (boot) boot.textContent = `SelfOS could not start: ${e}`;
  throw e;
}
