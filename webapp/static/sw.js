// Offline cache for the app shell: network first (so a new build arrives on the next visit),
// the cached copy when the server cannot be reached. The API is never cached.
const CACHE = 'selfos-webapp-v1';
const SHELL = ['/', '/index.html', '/app.css', '/boot.js', '/pkg/selfos_webapp.js', '/pkg/selfos_webapp_bg.wasm'];

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
  const shell = e.request.mode === 'navigate' ? '/index.html' : url.pathname;
  e.respondWith(fetch(e.request).then((r) => {
    if (r.ok && SHELL.includes(shell)) {
      const copy = r.clone();
      caches.open(CACHE).then((c) => c.put(shell, copy));
    }
    return r;
  }).catch(() => caches.match(shell).then((r) => r || Response.error())));
});
