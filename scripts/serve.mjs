#!/usr/bin/env node
// A plain static file server for the built app: `node scripts/serve.mjs DIR PORT [--isolated]`.
// Every file goes out with the app's Content-Security-Policy as a header (the policy of the
// <meta> tag in DIR/index.html): the meta tag binds the page, but a worker's policy comes
// from the response that served its script. With --isolated, COOP/COEP make the page
// cross-origin isolated so onnxruntime-web can use threads.
import { createServer } from 'node:http';
import { readFileSync } from 'node:fs';
import { readFile, stat } from 'node:fs/promises';
import { extname, join, normalize, resolve } from 'node:path';

const [dir = 'dist', port = '4173', ...flags] = process.argv.slice(2);
const root = resolve(dir);
const isolated = flags.includes('--isolated');
const csp = (() => {
  try {
    return /<meta\s+http-equiv="Content-Security-Policy"\s+content="([^"]+)"/i.exec(readFileSync(join(root, 'index.html'), 'utf8'))?.[1] ?? null;
  } catch {
    return null;
  }
})();
const types = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript',
  '.mjs': 'text/javascript',
  '.css': 'text/css',
  '.json': 'application/json',
  '.wasm': 'application/wasm',
  '.svg': 'image/svg+xml',
  '.png': 'image/png',
  '.csv': 'text/csv',
  '.onnx': 'application/octet-stream',
  '.webmanifest': 'application/manifest+json',
};

createServer(async (request, response) => {
  const url = new URL(request.url ?? '/', 'http://localhost');
  let path = normalize(join(root, decodeURIComponent(url.pathname)));
  if (!path.startsWith(root)) {
    response.writeHead(403).end();
    return;
  }
  try {
    if ((await stat(path)).isDirectory()) path = join(path, 'index.html');
    const body = await readFile(path);
    const headers = { 'Content-Type': types[extname(path)] ?? 'application/octet-stream', 'Cache-Control': 'no-cache' };
    if (csp) headers['Content-Security-Policy'] = csp;
    if (isolated) Object.assign(headers, { 'Cross-Origin-Opener-Policy': 'same-origin', 'Cross-Origin-Embedder-Policy': 'require-corp' });
    response.writeHead(200, headers).end(body);
  } catch {
    response.writeHead(404, { 'Content-Type': 'text/plain' }).end('not found');
  }
}).listen(Number(port), '127.0.0.1', () => {
  console.log(`serving ${root} on http://127.0.0.1:${port}${isolated ? ' (cross-origin isolated)' : ''}`);
});
