/// <reference lib="dom" />
// The app's Content-Security-Policy binds its workers, not only the page: a <meta> policy
// does not reach a worker (its policy comes from the response that served its script), and
// a worker's fetch to another local address used to get through.
import { expect, test, type Page, type Worker } from '@playwright/test';
import { createServer, type Server } from 'node:http';
import { readFile, stat } from 'node:fs/promises';
import type { AddressInfo } from 'node:net';
import { extname, join, normalize } from 'node:path';
import { projectRoot } from '../support/fixtures';

const APP = 'http://127.0.0.1:4173/';
/** Another origin (another port): the isolated server the Playwright config starts. */
const ELSEWHERE = 'http://127.0.0.1:4174/';

/** The audit worker of the page (started through the page's automation hook). */
async function auditWorker(page: Page): Promise<Worker> {
  const started = page.waitForEvent('worker', { predicate: (worker) => /audit\.worker/.test(worker.url()), timeout: 30_000 });
  await page.evaluate(() => void (globalThis as unknown as { plumbline: { worker(): unknown } }).plumbline.worker());
  return page.workers().find((worker) => /audit\.worker/.test(worker.url())) ?? (await started);
}

/** A `no-cors` fetch to the other origin from inside the worker (it needs no CORS answer to get through), and the violations reported. */
function fetchElsewhere(worker: Worker) {
  return worker.evaluate(async (url) => {
    const violations: string[] = [];
    self.addEventListener('securitypolicyviolation', (event) => {
      const e = event as SecurityPolicyViolationEvent;
      violations.push(`${e.effectiveDirective} ${e.blockedURI}`);
    });
    const outcome = await fetch(url, { mode: 'no-cors' }).then(
      () => 'reached',
      (error: Error) => `blocked: ${error.message}`,
    );
    await new Promise((resolve) => setTimeout(resolve, 200));
    return { outcome, violations };
  }, ELSEWHERE);
}

test('served as the README says (scripts/serve.mjs), a worker cannot fetch another origin', async ({ page }) => {
  await page.goto(APP);
  const worker = await auditWorker(page);
  const header = (await fetch(worker.url())).headers.get('content-security-policy');
  expect(header).toContain("connect-src 'self'");
  const { outcome, violations } = await fetchElsewhere(worker);
  expect(outcome).toMatch(/^blocked/);
  expect(violations).toContain(`connect-src ${ELSEWHERE}`);
});

test('from a host that sends no headers, the service worker gives the worker scripts the policy', async ({ page }) => {
  // A bare static host: the built files, no headers at all.
  const dist = join(projectRoot, 'dist');
  const server: Server = createServer(async (request, response) => {
    let path = normalize(join(dist, decodeURIComponent(new URL(request.url ?? '/', 'http://x').pathname)));
    try {
      if (!path.startsWith(dist)) throw new Error('outside');
      if ((await stat(path)).isDirectory()) path = join(path, 'index.html');
      const type = { '.html': 'text/html', '.js': 'text/javascript', '.wasm': 'application/wasm', '.css': 'text/css' }[extname(path)] ?? 'application/octet-stream';
      response.writeHead(200, { 'Content-Type': type }).end(await readFile(path));
    } catch {
      response.writeHead(404).end();
    }
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const bare = `http://127.0.0.1:${(server.address() as AddressInfo).port}/`;
  try {
    await page.goto(bare);
    await page.evaluate(() => navigator.serviceWorker.ready.then(() => undefined));
    await expect.poll(() => page.evaluate(() => Boolean(navigator.serviceWorker.controller)), { timeout: 30_000 }).toBe(true);
    await page.reload();
    const worker = await auditWorker(page);
    // The host itself sends no policy for the worker script ...
    expect((await fetch(worker.url())).headers.get('content-security-policy')).toBeNull();
    // ... the service worker's copy carries it, and binds the worker.
    const { outcome, violations } = await fetchElsewhere(worker);
    expect(outcome).toMatch(/^blocked/);
    expect(violations).toContain(`connect-src ${ELSEWHERE}`);
  } finally {
    server.close();
  }
});

test('the demo audit runs in workers bound by the policy (onnxruntime, its WebAssembly and the pool load from the app\'s own origin)', async ({ page }) => {
  const violations: string[] = [];
  page.on('console', (message) => {
    if (/Content Security Policy/i.test(message.text())) violations.push(message.text());
  });
  await page.goto(APP);
  await page.getByTestId('run-demo').click();
  await expect(page.getByTestId('result-summary')).toBeVisible({ timeout: 90_000 });
  expect(violations).toEqual([]);
});
