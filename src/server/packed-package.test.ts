// The packed package as a user gets it: `npm pack` (which builds dist/lib/), installed with the official
// `openai` client into an empty folder (offline: the tarball and the repository's openai copy are local
// paths). `npx sparsescope serve --backend cpu` serves the bundled model; the client's models.list, a
// non-streaming and a streaming chat completion (temperature 0) give the text that the package's own
// createEngine({ backend: 'cpu' }) gives in Node. Its types check from a consumer file, and a minimal
// Vite page that imports it builds. Takes about a minute (the build, the installs).
import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, mkdirSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

const repo = join(import.meta.dirname, '../..');
let dir: string;
let app: string;
let server: ChildProcess | undefined;

const run = (cmd: string, args: string[], cwd: string) =>
  execFileSync(cmd, args, { cwd, encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'], timeout: 240_000 });
const node = (script: string, cwd: string) => JSON.parse(run(process.execPath, [script], cwd).trim().split('\n').pop()!);

beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), 'sparsescope-pack-'));
  app = join(dir, 'app');
  mkdirSync(app);
  run('npm', ['pack', '--silent', '--pack-destination', dir], repo);
  const tarball = readdirSync(dir).find((f) => f.endsWith('.tgz'))!;
  writeFileSync(join(app, 'package.json'), JSON.stringify({ name: 'app', private: true, type: 'module' }));
  run('npm', ['install', '--offline', '--no-audit', '--no-fund', '--loglevel=error', join(dir, tarball), join(repo, 'node_modules/openai')], app);
}, 300_000);

afterAll(() => {
  if (server?.pid && server.exitCode === null) process.kill(-server.pid, 'SIGTERM');
  rmSync(dir, { recursive: true, force: true });
});

const PARAMS = { messages: [{ role: 'user', content: 'In the beginning' }], temperature: 0, max_tokens: 12 };

function startServer(): Promise<string> {
  return new Promise((resolve, reject) => {
    // Its own process group: npx starts the server as a child, and afterAll ends both.
    server = spawn('npx', ['--offline', 'sparsescope', 'serve', '--backend', 'cpu', '--port', '0'], {
      cwd: app,
      stdio: ['ignore', 'pipe', 'pipe'],
      detached: true,
    });
    let out = '';
    let err = '';
    server.stdout!.on('data', (d: Buffer) => {
      out += d.toString();
      const m = /listening on (http:\/\/\S+\/v1)/.exec(out);
      if (m) resolve(m[1]);
    });
    server.stderr!.on('data', (d: Buffer) => (err += d.toString()));
    server.on('exit', (code) => reject(new Error(`sparsescope serve exited (${code}): ${err}`)));
  });
}

describe('the packed package', () => {
  it('serve + the openai client give the same text as createEngine in Node', async () => {
    writeFileSync(
      join(app, 'engine.mjs'),
      `import { createEngine } from 'sparsescope';
const engine = await createEngine({ backend: 'cpu' });
await engine.load();
const r = await engine.chat.completions.create(${JSON.stringify(PARAMS)});
console.log(JSON.stringify({ id: engine.modelId, text: r.choices[0].message.content }));`,
    );
    const local = node('engine.mjs', app) as { id: string; text: string };
    expect(local.text.length).toBeGreaterThan(0);

    const baseURL = await startServer();
    writeFileSync(
      join(app, 'client.mjs'),
      `import OpenAI from 'openai';
const client = new OpenAI({ baseURL: ${JSON.stringify(baseURL)}, apiKey: 'none' });
const models = (await client.models.list()).data.map((m) => m.id);
const params = { model: models[0], ...${JSON.stringify(PARAMS)} };
const whole = await client.chat.completions.create(params);
let streamed = '';
for await (const c of await client.chat.completions.create({ ...params, stream: true })) streamed += c.choices[0]?.delta?.content ?? '';
console.log(JSON.stringify({ models, whole: whole.choices[0].message.content, streamed }));`,
    );
    const remote = node('client.mjs', app) as { models: string[]; whole: string; streamed: string };
    expect(remote.models).toEqual([local.id]);
    expect(remote.whole).toBe(local.text);
    expect(remote.streamed).toBe(local.text);
  });

  it('its types check from a consumer file', () => {
    writeFileSync(
      join(app, 'consumer.ts'),
      `import { createEngine, type ChatCompletion, type ChatCompletionChunk } from 'sparsescope';
export async function reply(): Promise<string> {
  const engine = await createEngine({ backend: 'cpu' });
  await engine.load(undefined, { onProgress: (e) => void e.kind });
  const whole: ChatCompletion = await engine.chat.completions.create({ messages: [{ role: 'user', content: 'hi' }] });
  const stream: AsyncIterable<ChatCompletionChunk> = await engine.chat.completions.create({ messages: [{ role: 'user', content: 'hi' }], stream: true });
  void stream;
  return whole.choices[0].message.content;
}`,
    );
    const tsc = join(repo, 'node_modules/typescript/bin/tsc');
    // Throws (with tsc's messages) on a type error.
    run(
      process.execPath,
      [tsc, '--noEmit', '--strict', '--skipLibCheck', '--target', 'es2022', '--module', 'nodenext', '--moduleResolution', 'nodenext', 'consumer.ts'],
      app,
    );
  });

  it('a minimal Vite page that uses it builds, with the engine worker and the WGSL inside', async () => {
    const page = join(app, 'page');
    mkdirSync(page);
    writeFileSync(join(page, 'index.html'), '<!doctype html><script type="module" src="./main.js"></script><pre id="out"></pre>');
    writeFileSync(
      join(page, 'main.js'),
      `import { createEngine } from 'sparsescope';
const engine = await createEngine();
await engine.load();
const r = await engine.chat.completions.create({ messages: [{ role: 'user', content: 'hi' }], max_tokens: 8 });
document.getElementById('out').textContent = r.choices[0].message.content;`,
    );
    const { build } = await import('vite');
    await build({ root: page, configFile: false, logLevel: 'silent', build: { outDir: join(page, 'dist'), target: 'es2022' }, worker: { format: 'es' } });
    const assets = readdirSync(join(page, 'dist/assets'));
    const worker = assets.find((f) => f.startsWith('engine.worker'));
    expect(worker, assets.join(', ')).toBeDefined();
    // The worker carries the kernels as WGSL source (inlined by the package build).
    const workerCode = readFileSync(join(page, 'dist/assets', worker!), 'utf8');
    expect(workerCode).toMatch(/@compute\s+@workgroup_size/);
    // The bundled model travels as an asset of the page.
    expect(assets.some((f) => f.endsWith('.gguf'))).toBe(true);
  });
});
