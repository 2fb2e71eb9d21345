/// <reference lib="dom" />
// The npm package's browser entry as a web developer uses it: `import { audit } from
// 'plumbline-audit/browser'` in an app that Vite bundles, onnxruntime-web installed beside
// it (the package's optional peer dependency), run in Chromium. The package is the tarball
// `npm pack` makes, installed offline (tests/support/installed-package.ts).
import { expect, test } from '@playwright/test';
import { execFileSync } from 'node:child_process';
import { copyFileSync, existsSync, mkdirSync, mkdtempSync, readFileSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { extname, join, normalize } from 'node:path';
import { build } from 'vite';
import { expected, fixture, projectRoot } from '../support/fixtures';
import { installedPackage, npmEnv } from '../support/installed-package';

const rf = expected('compas/rf.expected.json');
const TYPES: Record<string, string> = { '.html': 'text/html', '.js': 'text/javascript', '.wasm': 'application/wasm', '.mjs': 'text/javascript' };

/** A static server of one folder, as any host of a built app. */
function serve(root: string): Promise<Server> {
  const server = createServer((request, response) => {
    const path = normalize(join(root, decodeURIComponent(new URL(request.url!, 'http://x').pathname)));
    const file = path.endsWith('/') ? join(path, 'index.html') : path;
    if (!file.startsWith(root) || !existsSync(file)) {
      response.writeHead(404).end();
      return;
    }
    response.writeHead(200, { 'content-type': TYPES[extname(file)] ?? 'application/octet-stream' }).end(readFileSync(file));
  });
  return new Promise((done) => server.listen(0, '127.0.0.1', () => done(server)));
}

test("a Vite app built on the package's browser entry audits the fixture model in Chromium, as the CLI does, with no request leaving the app's origin", async ({ page }) => {
  test.setTimeout(180_000);
  // The app's own folder: the tarball installed offline (not the shared install the package tests
  // read, which must stay without onnxruntime-web), and the app's onnxruntime-web beside it, the
  // version the package names as its peer (as `npm install onnxruntime-web@1.30.0` puts it).
  const site = mkdtempSync(join(tmpdir(), 'plumbline-vite-app-'));
  execFileSync('npm', ['install', '--offline', '--omit=optional', '--no-audit', '--no-fund', installedPackage().tarball], { cwd: site, env: npmEnv(), stdio: 'pipe' });
  symlinkSync(join(projectRoot, 'node_modules', 'onnxruntime-web'), join(site, 'node_modules', 'onnxruntime-web'), 'dir');
  mkdirSync(join(site, 'public'));
  copyFileSync(fixture('compas/rf.onnx'), join(site, 'public', 'rf.onnx'));
  copyFileSync(fixture('compas/test.csv'), join(site, 'public', 'test.csv'));
  writeFileSync(join(site, 'index.html'), '<!doctype html><html><body><pre id="out">running</pre><script type="module" src="./main.js"></script></body></html>\n');
  writeFileSync(
    join(site, 'main.js'),
    `import { audit } from 'plumbline-audit/browser';
const file = async (name) => ({ name, bytes: new Uint8Array(await (await fetch('/' + name)).arrayBuffer()) });
const out = document.getElementById('out');
try {
  const run = await audit({ model: await file('rf.onnx'), data: await file('test.csv'), config: { model: { features: ${JSON.stringify(rf.features)} }, data: { target: 'two_year_recid', protected_attributes: ['race', 'sex'] }, audit_profile: 'quickstart' } });
  out.textContent = JSON.stringify({ auc: run.result.performance.roc_auc });
} catch (error) {
  out.textContent = 'error: ' + error.message;
}
`,
  );
  await build({ root: site, configFile: false, logLevel: 'silent', build: { outDir: join(site, 'dist'), chunkSizeWarningLimit: 100_000 } });
  const server = await serve(join(site, 'dist'));
  const origin = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  const elsewhere: string[] = [];
  page.on('request', (request) => {
    if (!request.url().startsWith(origin) && !request.url().startsWith('data:') && !request.url().startsWith('blob:')) elsewhere.push(request.url());
  });
  try {
    await page.goto(`${origin}/`);
    await expect(page.locator('#out')).not.toHaveText('running', { timeout: 120_000 });
    const text = (await page.locator('#out').textContent())!;
    expect(text).not.toMatch(/^error/);
    const { auc } = JSON.parse(text) as { auc: number };
    expect(Math.abs(auc - rf.performance.roc_auc)).toBeLessThan(1e-9);
    expect(elsewhere).toEqual([]);
  } finally {
    server.close();
  }
});
