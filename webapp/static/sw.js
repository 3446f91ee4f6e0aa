// Offline cache for the app: network first (so a new build arrives on the next visit), the
// cached copy when the server cannot be reached. The API is never cached.
//
// The shell is cached at install. The modules loaded on demand (pkg/split_*.wasm,
// pkg/chunk_*.wasm) are cached as they are fetched through this worker, and when the page
// says it has loaded them (a 'cache' message, sent after the views' modules came in): the
// first visit may fetch some before this worker controls the page. Nothing is fetched here
// that the page did not load itself.
//
// `xtask` stamps the cache name with a digest of the build's files, so each build has a cache
// of its own: a module from one build is never run with the main module of another.
const CACHE = 'selfos-webapp-__SELFOS_BUILD__';
const SHELL = ['/index.html', '/app.css', '/boot.js', '/pkg/selfos_webapp.js', '/pkg/__wasm_split.js', '/pkg/selfos_webapp_bg.wasm'];
const cacheable = (path) => SHELL.includes(path) || /^\/pkg\/[\w.-]+\.(wasm|js)$/.test(path);

self.addEventListener('install', (e) => {
  e.waitUntil(caches.open(CACHE).then((c) => c.addAll(SHELL)).then(() => self.skipWaiting()));
});
self.addEventListener('activate', (e) => {
  e.waitUntil(caches.keys().then((keys) => Promise.all(keys.filter((k) => k !== CACHE).map((k) => caches.delete(k))))
    .then(() => self.clients.claim()));
});
self.addEventListener('message', (e) => {
  if (e.data?.type !== 'cache' || !Array.isArray(e.data.paths)) return;
  const paths = e.data.paths.filter((p) => typeof p === 'string' && cacheable(p));
  e.waitUntil(caches.open(CACHE).then((c) => Promise.all(paths.map((p) => c.match(p).then((hit) => hit || c.add(p)))))
    .catch(() => {}));
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
