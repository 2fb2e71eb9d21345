/**
 * A Vite build plugin that makes the app work offline: after the build it lists every
 * file in the output (scripts, styles, the .wasm binaries, the demo) and writes `sw.js`,
 * a service worker that precaches them under a cache named by their content hash and
 * answers the app's own requests from that cache first (the WebGPU build, which only some
 * audits use, is cached when first used: {@link fetchedOnUse}). Nothing is fetched from anywhere
 * but the app's origin.
 */
import { createHash } from 'node:crypto';
import { readdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { join, relative, sep } from 'node:path';
import type { Plugin, ResolvedConfig } from 'vite';

function files(dir: string): string[] {
  return readdirSync(dir).flatMap((name) => {
    const path = join(dir, name);
    return statSync(path).isDirectory() ? files(path) : [path];
  });
}

/**
 * The page's Content-Security-Policy, read from the `<meta http-equiv>` tag of the built
 * index.html: the one policy the service worker and `scripts/serve.mjs` also send as a header.
 */
export function contentSecurityPolicy(html: string): string | null {
  return /<meta\s+http-equiv="Content-Security-Policy"\s+content="([^"]+)"/i.exec(html)?.[1] ?? null;
}

/**
 * The service worker's source, with the precache list, cache name and policy filled in.
 * A meta tag binds the page only: a worker's policy comes from the response that served
 * its script. So the service worker adds the page's policy as a `Content-Security-Policy`
 * header to every worker script (and page) it serves that has none, and a worker started
 * from the cache, or from a host that sends no headers, is held to the same origin too.
 */
export function serviceWorkerSource(assets: string[], version: string, csp: string | null = null): string {
  return `// Plumbline offline service worker (generated at build time; do not edit).
const CACHE = 'plumbline-${version}';
const ASSETS = ${JSON.stringify(assets)};
const CSP = ${JSON.stringify(csp)};

// Worker scripts (and pages) get the app's policy as a header: a <meta> policy does not bind workers.
function withPolicy(request, response) {
  const bound = request.destination === 'worker' || request.destination === 'sharedworker' || request.mode === 'navigate';
  if (!CSP || !bound || response.type === 'opaque' || response.headers.has('Content-Security-Policy')) return response;
  const headers = new Headers(response.headers);
  headers.set('Content-Security-Policy', CSP);
  return new Response(response.body, { status: response.status, statusText: response.statusText, headers });
}

self.addEventListener('install', (event) => {
  event.waitUntil(caches.open(CACHE).then((cache) => cache.addAll(ASSETS)).then(() => self.skipWaiting()));
});

self.addEventListener('activate', (event) => {
  event.waitUntil(
    caches.keys()
      .then((names) => Promise.all(names.filter((name) => name.startsWith('plumbline-') && name !== CACHE).map((name) => caches.delete(name))))
      .then(() => self.clients.claim()),
  );
});

self.addEventListener('fetch', (event) => {
  const request = event.request;
  const url = new URL(request.url);
  if (request.method !== 'GET' || url.origin !== self.location.origin) return;
  event.respondWith(
    caches.open(CACHE).then(async (cache) => {
      // Pages are the app shell; everything else by its own URL (query strings ignored).
      const cached = request.mode === 'navigate' ? await cache.match('./index.html') : await cache.match(request, { ignoreSearch: true });
      if (cached) return withPolicy(request, cached);
      const response = await fetch(request);
      // Assets left out of the precache (the WebGPU build) are kept once they have been used.
      if (response.ok && request.mode !== 'navigate' && url.pathname.includes('/assets/')) await cache.put(request, response.clone());
      return withPolicy(request, response);
    }),
  );
});
`;
}

/**
 * Assets only some audits need, left out of the precache so a first visit does not download
 * them: onnxruntime-web's default build (WebGPU through JSEP, a 28 MB .wasm), loaded when an
 * audit asks for WebGPU and cached then.
 */
export function fetchedOnUse(path: string): boolean {
  return /(^|\/)ort\.bundle\.min-[\w-]+\.js$|\.jsep-[\w-]+\.wasm$/.test(path);
}

export function offline(): Plugin {
  let config: ResolvedConfig;
  return {
    name: 'plumbline-offline',
    apply: 'build',
    configResolved(resolved) {
      config = resolved;
    },
    closeBundle() {
      const outDir = config.build.outDir;
      const paths = files(outDir)
        .map((path) => relative(outDir, path).split(sep).join('/'))
        .filter((path) => path !== 'sw.js' && !fetchedOnUse(path))
        .sort();
      const hash = createHash('sha256');
      for (const path of paths) hash.update(path).update(readFileSync(join(outDir, path)));
      const assets = ['./', ...paths.map((path) => `./${path}`)];
      const csp = contentSecurityPolicy(readFileSync(join(outDir, 'index.html'), 'utf8'));
      writeFileSync(join(outDir, 'sw.js'), serviceWorkerSource(assets, hash.digest('hex').slice(0, 16), csp));
    },
  };
}
