/**
 * e2e plumbing: serve the app (`npm start`, the production build users get, or `npm run dev`), and drive
 * Debian's chromium with WebGPU through playwright-core (never a downloaded browser).
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { createServer, type RequestListener } from 'node:http';
import type { AddressInfo } from 'node:net';
import { mkdtempSync, mkdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { chromium, type BrowserContext, type Page } from 'playwright-core';
import { expect } from 'vitest';

export const CHROMIUM = process.env.SPARSESCOPE_CHROMIUM ?? '/usr/bin/chromium';
export const SCREENSHOTS = join(process.cwd(), 'e2e', 'screenshots');
/** Screenshots the README shows, made by the e2e run on the bundled model (tracked). */
export const DOC_SCREENSHOTS = join(process.cwd(), 'docs', 'screenshots');

export interface Server {
  url: string;
  /** Everything the server printed so far (colours stripped). */
  output(): string;
  /** Ends the server's whole process group (SIGTERM, SIGKILL after 5 s); resolves once its leader exited. */
  stop(): Promise<void>;
}

/**
 * The dev server (`npm run dev`: Vite with hot reload, no service worker) on a free port; resolves with
 * the URL it prints. For the tests that need neither the production build nor offline.
 */
export function startServer(): Promise<Server> {
  const port = 20000 + Math.floor(Math.random() * 20000);
  return serve('npm', ['run', 'dev', '--', '--port', String(port), '--strictPort'], {}, 'npm run dev', 60_000);
}

/**
 * `npm start` exactly as a user runs it (scripts/start.mjs: the production build with its service worker,
 * rebuilt only when the sources changed, served by `vite preview`), on a free port given through PORT;
 * resolves with the URL it prints. It forces NODE_ENV=production itself, whatever vitest set.
 * `testBuild`: the same build with the e2e hook `window.__sparsescope` (SPARSESCOPE_TEST_BUILD=1, kept in
 * .cache/dist-test); the production build has no hook, so a test of it reads only the DOM.
 */
export function startNpmStart(opts: { testBuild?: boolean } = {}): Promise<Server> {
  const port = 20000 + Math.floor(Math.random() * 20000);
  const env: Record<string, string> = { PORT: String(port), SPARSESCOPE_TEST_BUILD: opts.testBuild ? '1' : '' };
  return serve('npm', ['start'], env, opts.testBuild ? 'npm start (test build)' : 'npm start', 180_000);
}

function serve(command: string, args: string[], env: Record<string, string>, what: string, timeoutMs: number): Promise<Server> {
  const child: ChildProcess = spawn(command, args, {
    stdio: ['ignore', 'pipe', 'pipe'],
    env: { ...process.env, NO_COLOR: '1', ...env },
    detached: true, // its own process group, so stop() ends npm, node and anything they started
  });
  return new Promise((resolve, reject) => {
    let out = '';
    const timer = setTimeout(() => {
      killGroup(child);
      reject(new Error(`${what} printed no URL in ${timeoutMs / 1000} s:\n${out}`));
    }, timeoutMs);
    const onData = (d: Buffer) => {
      // eslint-disable-next-line no-control-regex -- strip ANSI colours from vite's banner
      out += d.toString().replace(/\x1b\[[0-9;]*m/g, '');
      const m = /Local:\s+(http:\/\/\S+)/.exec(out);
      if (m) {
        clearTimeout(timer);
        resolve({ url: m[1], output: () => out, stop: () => stopGroup(child) });
      }
    };
    child.stdout!.on('data', onData);
    child.stderr!.on('data', onData);
    child.on('exit', (code) => reject(new Error(`${what} exited with ${code}:\n${out}`)));
  });
}

function killGroup(child: ChildProcess, signal: NodeJS.Signals = 'SIGTERM'): void {
  try {
    process.kill(-child.pid!, signal);
  } catch {
    child.kill(signal);
  }
}

function stopGroup(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) {
    killGroup(child); // the leader is gone; its group may not be
    return Promise.resolve();
  }
  return new Promise((resolve) => {
    const hard = setTimeout(() => killGroup(child, 'SIGKILL'), 5_000);
    child.once('exit', () => {
      clearTimeout(hard);
      resolve();
    });
    killGroup(child);
  });
}

export async function launchBrowser(opts: { webgpu?: boolean } = {}): Promise<BrowserContext> {
  const dir = mkdtempSync(join(tmpdir(), 'sparsescope-chromium-'));
  const args = ['--no-sandbox', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'];
  if (opts.webgpu !== false) args.push('--enable-unsafe-webgpu');
  return chromium.launchPersistentContext(dir, { executablePath: CHROMIUM, headless: true, args, viewport: { width: 1200, height: 900 } });
}

export async function screenshot(page: Page, name: string, dir = SCREENSHOTS): Promise<string> {
  mkdirSync(dir, { recursive: true });
  const path = join(dir, `${name}.png`);
  await page.screenshot({ path, fullPage: true });
  return path;
}

/** Collects page errors and console errors so a test can print them when it fails. */
/** Waits until the service worker is active and has the bundled model in its cache (offline-ready). */
export async function waitForOfflineCache(page: Page): Promise<void> {
  const swState = () =>
    page.evaluate(async () =>
      JSON.stringify((await navigator.serviceWorker.getRegistrations()).map((r) => r.active?.state ?? r.installing?.state ?? r.waiting?.state ?? 'none')),
    );
  await expect.poll(swState, { timeout: 90_000 }).toBe('["activated"]');
  await expect
    .poll(
      () =>
        page.evaluate(async () =>
          (await Promise.all((await caches.keys()).map(async (k) => (await (await caches.open(k)).keys()).map((r) => r.url))))
            .flat()
            .some((u) => new URL(u).pathname.endsWith('.gguf')),
        ),
      { timeout: 60_000 },
    )
    .toBe(true);
}

/**
 * Records every Content-Security-Policy violation the page reports (a `securitypolicyviolation` event,
 * from an init script, which the policy does not govern); returns a reader. Under `npm start`'s policy
 * (vite.config.ts) there must be none.
 */
export async function watchCspViolations(page: Page): Promise<() => Promise<string[]>> {
  await page.addInitScript(() => {
    const w = window as unknown as { __cspViolations: string[] };
    w.__cspViolations = [];
    document.addEventListener('securitypolicyviolation', (e) => w.__cspViolations.push(`${e.violatedDirective} ${e.blockedURI}`));
  });
  return () => page.evaluate(() => (window as unknown as { __cspViolations: string[] }).__cspViolations);
}

export function watchConsole(page: Page): string[] {
  const lines: string[] = [];
  page.on('console', (m) => {
    if (m.type() === 'error' || m.type() === 'warning') lines.push(`[${m.type()}] ${m.text()}`);
  });
  page.on('pageerror', (e) => lines.push(`[pageerror] ${e.message}`));
  return lines;
}

/**
 * A second local HTTP server for model files: another port than the app's, so the page fetches them
 * cross-origin, as it would from a model hub. `url` has no trailing slash.
 */
export async function serveFiles(handler: RequestListener): Promise<{ url: string; close(): void }> {
  const files = createServer(handler);
  await new Promise<void>((resolve) => files.listen(0, '127.0.0.1', resolve));
  return { url: `http://127.0.0.1:${(files.address() as AddressInfo).port}`, close: () => files.close() };
}

/**
 * serveFiles for model files by path, as a model hub serves them: CORS for any origin, Range requests
 * (206 with Content-Range) and, unless `rangesOnly`, a whole-file 200; unknown paths 404.
 */
export function serveRangeFiles(files: Map<string, Buffer>, o: { rangesOnly?: boolean } = {}): Promise<{ url: string; close(): void }> {
  return serveFiles((req, res) => {
    res.setHeader('Access-Control-Allow-Origin', '*');
    res.setHeader('Access-Control-Allow-Headers', 'Range');
    res.setHeader('Access-Control-Expose-Headers', 'Content-Length, Content-Range, Accept-Ranges');
    res.setHeader('Accept-Ranges', 'bytes');
    if (req.method === 'OPTIONS') return void res.writeHead(204).end();
    const bytes = files.get((req.url ?? '').split('?')[0]);
    if (!bytes) return void res.writeHead(404).end();
    const m = /bytes=(\d+)-(\d*)/.exec(req.headers.range ?? '');
    if (m) {
      const start = Number(m[1]);
      const end = m[2] ? Math.min(Number(m[2]), bytes.length - 1) : bytes.length - 1;
      res.writeHead(206, { 'Content-Range': `bytes ${start}-${end}/${bytes.length}`, 'Content-Length': end - start + 1 });
      return void res.end(bytes.subarray(start, end + 1));
    }
    if (o.rangesOnly) return void res.writeHead(416).end();
    res.writeHead(200, { 'Content-Length': bytes.length });
    res.end(bytes);
  });
}

/** Opens the page with the FakeEngine test double and waits for its model; returns the console log. */
export async function openFakePage(page: Page, appUrl: string, extra = ''): Promise<string[]> {
  const log = watchConsole(page);
  await page.goto(`${appUrl}?engine=fake&fakeDelay=25${extra}`);
  await expect
    .poll(() => page.getByTestId('model-status').getAttribute('data-status'), { timeout: 90_000 })
    .toBe('ready')
    .catch((e: Error) => {
      throw new Error(`${e.message}\nconsole:\n${log.join('\n')}`);
    });
  return log;
}

/** Types `text` into the chat composer and sends it. */
export async function ask(page: Page, text: string): Promise<void> {
  await page.getByTestId('chat-input').fill(text);
  await page.getByTestId('send').click();
}
