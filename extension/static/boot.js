// Loads a Rust module and starts the page named by <html data-start="...">: the whole
// extension (`selfos_extension`), or the one named by <html data-module="...">.
const name = document.documentElement.dataset.module || 'selfos_extension';
const selfos = await import(`./pkg/${name}.js`);
await selfos.default({ module_or_path: new URL(`./pkg/${name}_bg.wasm`, import.meta.url) });
selfos[document.documentElement.dataset.start]();
