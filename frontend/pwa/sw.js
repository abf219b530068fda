// Unity's service worker: keeps the app shell (index.html, the built bundles, icons) so the UI
// opens without a connection (and then says it is offline). It never stores API data: /api, /ws,
// /health, /docs, /redoc, /openapi.json and /metrics always go to the network. pwa/plugin.ts fills
// in VERSION and SHELL at build time, so each build is a new worker that replaces the old cache.
const VERSION = "__VERSION__";
const SHELL = __SHELL__;
const CACHE = `unity-shell-${VERSION}`;
const NETWORK_ONLY = /^\/(api|ws|health|docs|redoc|openapi\.json|metrics)(\/|$)/;

self.addEventListener("install", (event) => {
  event.waitUntil(
    caches
      .open(CACHE)
      .then((cache) => cache.addAll(SHELL))
      .then(() => self.skipWaiting()),
  );
});

self.addEventListener("activate", (event) => {
  event.waitUntil(
    caches
      .keys()
      .then((keys) => Promise.all(keys.filter((k) => k.startsWith("unity-shell-") && k !== CACHE).map((k) => caches.delete(k))))
      .then(() => self.clients.claim()),
  );
});

self.addEventListener("fetch", (event) => {
  const request = event.request;
  const url = new URL(request.url);
  if (request.method !== "GET" || url.origin !== self.location.origin || NETWORK_ONLY.test(url.pathname)) return;
  if (request.mode === "navigate") {
    // The network first, so a new release shows at once; the kept shell when there is none.
    event.respondWith(
      fetch(request).catch(() => caches.match("/index.html", { cacheName: CACHE }).then((hit) => hit || Response.error())),
    );
  } else if (SHELL.includes(url.pathname)) {
    event.respondWith(caches.match(request, { cacheName: CACHE }).then((hit) => hit || fetch(request)));
  }
});
