/**
 * e2e plumbing: serve the app exactly as `npm start` does, and drive Debian's chromium with WebGPU
 * through playwright-core (never a downloaded browser).
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
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
  stop(): void;
}

/** Runs `npm start` on a free port and resolves with the URL it prints. */
export function startServer(): Promise<Server> {
  const port = 20000 + Math.floor(Math.random() * 20000);
  return serve('npm', ['start', '--', '--port', String(port), '--strictPort'], 'npm start');
}

/**
 * The production build (`vite build` into `outDir`) served by `vite preview`: the only way to get the
 * service worker, which precaches the app and the bundled model for offline use.
 */
export function startPreview(outDir: string): Promise<Server> {
  // NODE_ENV: vitest sets it to 'test', and Vite then builds with import.meta.env.PROD false (no service worker)
  const env = { ...process.env, NO_COLOR: '1', NODE_ENV: 'production' };
  const built = spawnSync('npx', ['vite', 'build', '--outDir', outDir, '--emptyOutDir', '--logLevel', 'warn'], { encoding: 'utf8', env });
  if (built.status !== 0) throw new Error(`vite build failed (${built.status}):\n${built.stdout}\n${built.stderr}`);
  const port = 20000 + Math.floor(Math.random() * 20000);
  return serve('npx', ['vite', 'preview', '--outDir', outDir, '--port', String(port), '--strictPort'], 'vite preview');
}

function serve(command: string, args: string[], what: string): Promise<Server> {
  const child: ChildProcess = spawn(command, args, {
    stdio: ['ignore', 'pipe', 'pipe'],
    env: { ...process.env, NO_COLOR: '1' },
    detached: true,
  });
  return new Promise((resolve, reject) => {
    let out = '';
    const timer = setTimeout(() => {
      killGroup(child);
      reject(new Error(`${what} printed no URL in 60 s:\n${out}`));
    }, 60_000);
    const onData = (d: Buffer) => {
      // eslint-disable-next-line no-control-regex -- strip ANSI colours from vite's banner
      out += d.toString().replace(/\x1b\[[0-9;]*m/g, '');
      const m = /Local:\s+(http:\/\/\S+)/.exec(out);
      if (m) {
        clearTimeout(timer);
        resolve({ url: m[1], stop: () => killGroup(child) });
      }
    };
    child.stdout!.on('data', onData);
    child.stderr!.on('data', onData);
    child.on('exit', (code) => reject(new Error(`${what} exited with ${code}:\n${out}`)));
  });
}

function killGroup(child: ChildProcess): void {
  try {
    process.kill(-child.pid!, 'SIGTERM');
  } catch {
    child.kill('SIGTERM');
  }
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
