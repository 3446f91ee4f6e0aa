// Loads the Rust module and starts the page named by <html data-start="...">.
import init, * as selfos from './pkg/selfos_extension.js';

await init({ module_or_path: new URL('./pkg/selfos_extension_bg.wasm', import.meta.url) });
selfos[document.documentElement.dataset.start]();
