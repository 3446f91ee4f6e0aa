// Offline cache for the app: network first (so a new build arrives on the next visit), the
// cached copy when the server cannot be reached. The shell is cached at install; the views'
// modules (pkg/split_*.wasm, pkg/chunk_*.wasm) as the app fetches them, which it does in the
// background after the overview is shown. The API is never cached.
const CACHE = 'selfos-webapp-v2';
const SHELL = ['/index.html', '/app.css', '/boot.js', '/pkg/selfos_webapp.js', '/pkg/__wasm_split.js', '/pkg/selfos_webapp_bg.wasm'];
const cacheable = (path) => SHELL.includes(path) || /^\/pkg\/[\w.-]+\.(wasm|js)$/.test(path);

self.addEventListener('install', (e) => {
  e.waitUntil(caches.open(CACHE).then((c) => c.addAll(SHELL)).then(() => self.skipWaiting()));
});
self.addEventListener('activate', (e) => {
  e.waitUntil(caches.keys().then((keys) => Promise.all(keys.filter((k) => k !== CACHE).map((k) => caches.delete(k))))
    .then(() => self.clients.claim()));
});
self.addEventListener('fetch', (e) => {
  const url = new URL(e.request.url);
  if (e.request.method !== 'GET' || url.origin !== self.location.origin || url.pathname.startsWith('/api/')) return;
  const key = e.request.mode === 'navigate' ? '/index.html' : url.pathname;
  if (!cacheable(key)) return;
  e.respondWith(fetch(e.request).then((r) => {
    if (r.ok) {
      const copy = r.clone();
      caches.open(CACHE).then((c) => c.put(key, copy));
    }
    return r;
  }).catch(() => caches.match(key).then((r) => r || Response.error())));
});
