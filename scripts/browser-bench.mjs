// The browser bench: the page's engine and wllama (llama.cpp in wasm, its CPU path) on the same GGUF, in
// the same headless Debian chromium (SwiftShader WebGPU, as the e2e harness launches it), same prompt.
//
//   node scripts/browser-bench.mjs [--runs page-webgpu,page-cpu-1,page-cpu-2,page-auto,wllama-1,wllama-2]
//                                  [--prompt-tokens 64] [--tokens 32] [--model path.gguf] [--no-build] [--repeat N]
//
// 1. The model: a ~100 MB Q8_0 `deepseek2` file (embd 768, 8 layers, 8 experts, vocab 4000), written
//    once by the fixture generator into bench-results/models/ and reused.
// 2. The page: the test build (SPARSESCOPE_TEST_BUILD=1: the production bundle plus the
//    `window.__sparsescope` hook) in bench-results/page-build (--no-build reuses it), served by
//    `vite preview` with vite.config.ts's headers (CSP, COOP/COEP credentialless), as `npm start` does. The bench drives the page's real engine through the hook:
//    the Worker and its InProcessEngine, loading the model by URL from the bench's own file server (another
//    origin, as a model hub would be) with `{ backend, threads }`, then a raw-prompt greedy generate. The
//    UI's chat would wrap the prompt in the chat template; the hook gives both engines the same tokens.
// 3. wllama: its ESM build and wasm from node_modules/@wllama/wllama, on a page of the bench's file
//    server (cross-origin isolated, so its 2-thread build can run), loading the same file by URL,
//    n_gpu_layers 0 (its CPU path), a raw completion with ignore_eos, greedy.
// Both sides are timed the same way, in the page: time to first token = from the generate call to the
// first streamed token; decode tok/s = (tokens − 1) / (last token − first token); load = the load call.
// Prints a table and the ratios page ÷ wllama-best, writes bench-results/browser-bench.json. Localhost only.
import { createReadStream, existsSync, mkdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:http';
import { cpus, loadavg, tmpdir } from 'node:os';
import { dirname, extname, join, resolve } from 'node:path';
import { mkdtempSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { register } from 'tsx/esm/api';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
process.chdir(root);
register();

const { values: opts } = parseArgs({
  options: {
    runs: { type: 'string', default: 'page-webgpu,page-cpu-1,page-cpu-2,page-auto,wllama-1,wllama-2' },
    'prompt-tokens': { type: 'string', default: '64' },
    tokens: { type: 'string', default: '32' },
    model: { type: 'string' },
    'no-build': { type: 'boolean' },
    repeat: { type: 'string', default: '1' },
  },
});
const RUNS = opts.runs
  .split(',')
  .map((s) => s.trim())
  .filter(Boolean);
const KNOWN = /^(page-(webgpu|auto|cpu-\d+)|wllama-\d+)$/;
for (const r of RUNS) if (!KNOWN.test(r)) throw new Error(`unknown run "${r}"; runs: page-webgpu, page-auto, page-cpu-N, wllama-N`);
const PROMPT_TOKENS = Number(opts['prompt-tokens']);
const MAX_TOKENS = Number(opts.tokens);
// On a shared machine other jobs steal whole seconds: each run is repeated and its best decode kept (all in the JSON).
const REPEAT = Number(opts.repeat);
if (!Number.isInteger(REPEAT) || REPEAT < 1) throw new Error(`--repeat ${opts.repeat}: expected an integer ≥ 1`);
const CHROMIUM = process.env.SPARSESCOPE_CHROMIUM ?? '/usr/bin/chromium';
const log = (m) => console.log(`[browser-bench] ${m}`);

// ---- 1. the model ----------------------------------------------------------------------------------
// the same file as the CPU bench: src/bench/q8-bench-model.ts
const { ensureQ8BenchModel, Q8_BENCH_DIMS, Q8_BENCH_VOCAB } = await import('../src/bench/q8-bench-model.ts');
const modelPath = opts.model ? resolve(opts.model) : await ensureQ8BenchModel(log);
if (!existsSync(modelPath)) throw new Error(`no such model: ${modelPath}`);
const modelBytes = statSync(modelPath).size;
log(`model ${modelPath}: ${(modelBytes / 1e6).toFixed(1)} MB`);

// The prompt: PROMPT_TOKENS tokens under the file's own tokenizer (with its BOS), as both engines count them.
const { openGguf } = await import('../src/gguf/reader.ts');
const { createTokenizer } = await import('../src/model/tokenizer/index.ts');
const file = await openGguf({ kind: 'path', path: modelPath });
const tok = createTokenizer(file.metadata);
await file.close();
const SOURCE_TEXT =
  'In the beginning God created the heaven and the earth. And the earth was without form, and void; and darkness was upon the face of the deep. And the Spirit of God moved upon the face of the waters. And God said, Let there be light: and there was light. And God saw the light, that it was good: and God divided the light from the darkness. ';
let long = SOURCE_TEXT;
while (tok.encode(long, { addSpecial: false, parseSpecial: false }).length < PROMPT_TOKENS + 8) long += SOURCE_TEXT;
const body = tok.encode(long, { addSpecial: false, parseSpecial: false });
const count = (text) => tok.encode(text, { addSpecial: true, parseSpecial: false }).length;
const specials = count(''); // the BOS the tokenizer adds (0 or 1)
// cutting the token list and decoding it may merge across the cut: search a few lengths for an exact fit
let prompt;
for (const d of [0, -1, 1, -2, 2, -3, 3]) {
  const text = tok.decode(body.slice(0, PROMPT_TOKENS - specials + d));
  if (count(text) === PROMPT_TOKENS) {
    prompt = text;
    break;
  }
}
if (prompt === undefined) throw new Error(`no prompt of exactly ${PROMPT_TOKENS} tokens found`);
// The random model emits byte tokens that are not UTF-8 on their own (0xF5, a lone lead byte…), which
// wllama's JSON stream refuses ("invalid UTF-8 byte"): wllama's run bans every token that does not
// decode alone to text. It changes which tokens come, not what a token costs.
const vocabSize = Number(
  await (async () => {
    const f = await openGguf({ kind: 'path', path: modelPath });
    const n = f.metadata['tokenizer.ggml.tokens'].length;
    await f.close();
    return n;
  })(),
);
const banned = [];
for (let id = 0; id < vocabSize; id++) if (tok.decode([id]).includes('\uFFFD')) banned.push(id);
log(`wllama: ${banned.length} of ${vocabSize} tokens banned (not UTF-8 alone)`);
const promptIds = tok.encode(prompt, { addSpecial: true, parseSpecial: false }).length;
log(`prompt: ${promptIds} tokens (with BOS) under the file's tokenizer`);

// ---- 2. servers --------------------------------------------------------------------------------------
const { ISOLATION_HEADERS } = await import('../vite.config.ts');
const WLLAMA_DIR = join(root, 'node_modules', '@wllama', 'wllama', 'esm');
if (!existsSync(join(WLLAMA_DIR, 'wasm', 'wllama.wasm'))) throw new Error('node_modules/@wllama/wllama (3.13.0) is not installed');
const wllamaVersion = JSON.parse(readFileSync(join(root, 'node_modules', '@wllama', 'wllama', 'package.json'), 'utf8')).version;
const TYPES = {
  '.js': 'text/javascript',
  '.mjs': 'text/javascript',
  '.wasm': 'application/wasm',
  '.html': 'text/html',
  '.gguf': 'application/octet-stream',
  '.json': 'application/json',
};
const WLLAMA_PAGE = `<!doctype html><meta charset="utf-8"><title>wllama bench</title><script type="module">
import { Wllama } from '/wllama/index.js';
window.runWllama = async ({ url, threads, prompt, maxTokens, banned }) => {
  const wllama = new Wllama({ default: '/wllama/wasm/wllama.wasm' }, { suppressNativeLog: !window.wllamaVerbose });
  const t0 = performance.now();
  await wllama.loadModelFromUrl(url, { n_threads: threads, n_gpu_layers: 0, n_ctx: 1024, useCache: false });
  const loadMs = performance.now() - t0;
  const times = [];
  let timings;
  const g0 = performance.now();
  await wllama.createCompletion({ prompt, max_tokens: maxTokens, temperature: 0, temp: 0, top_k: 1, ignore_eos: true, stream: true, logit_bias: Object.fromEntries(banned.map((id) => [id, -100])),
    onData: (c) => { if (c.choices?.length && c.choices[0].finish_reason === null) times.push(performance.now() - g0); if (c.timings) timings = c.timings; } });
  const multiThread = wllama.isMultithread?.() ?? null;
  await wllama.exit();
  return { loadMs, times, timings, multiThread, isolated: crossOriginIsolated };
};
window.wllamaReady = true;
</script>`;

function serveFile(req, res, path) {
  const st = statSync(path, { throwIfNoEntry: false });
  if (!st?.isFile()) {
    res.writeHead(404).end();
    return;
  }
  const headers = {
    ...ISOLATION_HEADERS,
    'Content-Type': TYPES[extname(path)] ?? 'application/octet-stream',
    'Accept-Ranges': 'bytes',
    'Access-Control-Allow-Origin': '*',
    'Access-Control-Expose-Headers': 'Content-Length, Content-Range, Accept-Ranges',
    'Cross-Origin-Resource-Policy': 'cross-origin',
  };
  const m = /^bytes=(\d*)-(\d*)$/.exec(req.headers.range ?? '');
  if (m) {
    const start = m[1] === '' ? st.size - Number(m[2]) : Number(m[1]);
    const end = m[1] === '' || m[2] === '' ? st.size - 1 : Math.min(Number(m[2]), st.size - 1);
    res.writeHead(206, { ...headers, 'Content-Length': end - start + 1, 'Content-Range': `bytes ${start}-${end}/${st.size}` });
    if (req.method === 'HEAD') res.end();
    else createReadStream(path, { start, end }).pipe(res);
    return;
  }
  res.writeHead(200, { ...headers, 'Content-Length': st.size });
  if (req.method === 'HEAD') res.end();
  else createReadStream(path).pipe(res);
}

const files = createServer((req, res) => {
  const url = new URL(req.url, 'http://x');
  if (req.method === 'OPTIONS') {
    res.writeHead(204, { 'Access-Control-Allow-Origin': '*', 'Access-Control-Allow-Headers': '*', 'Access-Control-Allow-Methods': 'GET, HEAD' }).end();
    return;
  }
  if (url.pathname === '/wllama-bench.html') {
    res.writeHead(200, { ...ISOLATION_HEADERS, 'Content-Type': 'text/html' }).end(WLLAMA_PAGE);
    return;
  }
  if (url.pathname === '/models/bench.gguf') return serveFile(req, res, modelPath);
  if (url.pathname.startsWith('/wllama/')) {
    const p = resolve(WLLAMA_DIR, `.${decodeURIComponent(url.pathname.slice('/wllama'.length))}`);
    if (!p.startsWith(WLLAMA_DIR)) return void res.writeHead(403).end();
    return serveFile(req, res, p);
  }
  res.writeHead(404).end();
});
await new Promise((r) => files.listen(0, '127.0.0.1', r));
const FILES_URL = `http://127.0.0.1:${files.address().port}`;
const MODEL_URL = `${FILES_URL}/models/bench.gguf`;

/**
 * The page as `npm start` serves it (vite.config.ts: the same build, the same preview headers), built as
 * the test build (SPARSESCOPE_TEST_BUILD=1: the e2e hook) into bench-results/page-build, its own folder:
 * .cache/dist-test may be another worktree's (.cache is shared) and is rebuilt under running servers.
 */
async function startApp() {
  process.env.NODE_ENV = 'production';
  process.env.SPARSESCOPE_TEST_BUILD = '1';
  const { build, preview } = await import('vite');
  const outDir = join(root, 'bench-results', 'page-build');
  if (!opts['no-build'] || !existsSync(join(outDir, 'index.html'))) {
    const t0 = Date.now();
    log('building the page (test build)…');
    await build({ mode: 'production', logLevel: 'warn', build: { outDir, emptyOutDir: true } });
    log(`built in ${((Date.now() - t0) / 1000).toFixed(0)} s`);
  }
  const server = await preview({ mode: 'production', logLevel: 'warn', build: { outDir }, preview: { port: 0, strictPort: false, open: false } });
  return { url: server.resolvedUrls.local[0], stop: () => server.close() };
}

// ---- 3. the runs -------------------------------------------------------------------------------------
const { chromium } = await import('playwright-core');
const needPage = RUNS.some((r) => r.startsWith('page-'));
const app = needPage ? await startApp() : undefined;
if (app) log(`page: ${app.url} (vite preview of the test build); files: ${FILES_URL}`);
const browser = await chromium.launchPersistentContext(mkdtempSync(join(tmpdir(), 'sparsescope-bench-')), {
  executablePath: CHROMIUM,
  headless: true,
  args: [
    '--no-sandbox',
    '--disable-quic',
    '--no-first-run',
    '--disable-background-networking',
    '--disable-component-update',
    '--disable-sync',
    '--enable-unsafe-webgpu',
  ],
});

function summarize(name, r) {
  const t = r.times;
  const n = t.length;
  const decode = n > 1 ? (n - 1) / ((t[n - 1] - t[0]) / 1000) : 0;
  return {
    run: name,
    ...r.extra,
    loadMs: Math.round(r.loadMs),
    firstTokenMs: n ? Math.round(t[0]) : null,
    tokens: n,
    decodeTokensPerSecond: Number(decode.toFixed(3)),
  };
}

async function pageRun(name) {
  const [, backend, threadsStr] = /^page-(webgpu|auto|cpu)(?:-(\d+))?$/.exec(name);
  const threads = threadsStr ? Number(threadsStr) : 2;
  const page = await browser.newPage();
  const errors = [];
  page.on('pageerror', (e) => errors.push(e.message));
  // ?backend=cpu: the page's own start-up load (the small bundled model) goes to the CPU, out of the way
  await page.goto(`${app.url}?backend=cpu`);
  await page.waitForFunction(() => document.querySelector('[data-testid=model-status]')?.getAttribute('data-status') === 'ready', null, { timeout: 300_000 });
  const r = await page.evaluate(
    async ({ url, backend, threads, prompt, maxTokens }) => {
      const eng = window.__sparsescope.engine();
      const t0 = performance.now();
      const summary = await eng.load({ kind: 'url', url, name: 'bench.gguf' }, () => {}, { backend, threads });
      const loadMs = performance.now() - t0;
      const times = [];
      let promptTokens = 0;
      const g0 = performance.now();
      const greedy = { temperature: 0, topK: 0, topP: 1, minP: 0, repetitionPenalty: 1, seed: 1 };
      await eng.generate({ prompt, maxTokens, sampling: greedy }, (e) => {
        if (e.kind === 'token' && e.id >= 0) times.push(performance.now() - g0);
        if (e.kind === 'prefill') promptTokens = e.promptTokens;
      });
      return {
        loadMs,
        times,
        extra: {
          backend: summary.backend,
          label: summary.backendChoice?.label,
          reason: summary.backendChoice?.reason,
          timing: summary.backendChoice?.timing,
          promptTokens,
          isolated: globalThis.crossOriginIsolated,
        },
      };
    },
    { url: MODEL_URL, backend, threads, prompt, maxTokens: MAX_TOKENS },
  );
  await page.close();
  if (errors.length) log(`${name}: page errors: ${errors.join(' | ')}`);
  return summarize(name, r);
}

async function wllamaRun(name) {
  const threads = Number(/^wllama-(\d+)$/.exec(name)[1]);
  const page = await browser.newPage();
  const lines = [];
  page.on('console', (m) => lines.push(`[${m.type()}] ${m.text()}`));
  if (process.env.WLLAMA_VERBOSE) await page.addInitScript(() => (window.wllamaVerbose = true));
  await page.goto(`${FILES_URL}/wllama-bench.html`);
  await page.waitForFunction(() => window.wllamaReady === true);
  const r = await page
    .evaluate((a) => window.runWllama(a), { url: MODEL_URL, threads, prompt, maxTokens: MAX_TOKENS, banned })
    .catch((e) => {
      throw new Error(`${name}: ${e.message}\nconsole:\n${lines.slice(-40).join('\n')}`);
    });
  await page.close();
  return summarize(name, {
    ...r,
    extra: {
      backend: 'wllama-cpu',
      label: `wllama ${wllamaVersion}, ${threads} thread${threads === 1 ? '' : 's'}`,
      multiThread: r.multiThread,
      promptTokens: r.timings?.prompt_n,
      wllamaTimings: r.timings,
      isolated: r.isolated,
    },
  });
}

const results = [];
try {
  for (const name of RUNS) {
    log(`${name}…`);
    const t0 = Date.now();
    const reps = [];
    for (let i = 0; i < REPEAT; i++) reps.push(name.startsWith('page-') ? await pageRun(name) : await wllamaRun(name));
    const r = reps.reduce((a, b) => (b.decodeTokensPerSecond > a.decodeTokensPerSecond ? b : a));
    if (REPEAT > 1) r.repetitions = reps.map((x) => ({ decodeTokensPerSecond: x.decodeTokensPerSecond, firstTokenMs: x.firstTokenMs, loadMs: x.loadMs }));
    results.push(r);
    log(
      `${name}: ${r.decodeTokensPerSecond} tok/s decode, first token ${r.firstTokenMs} ms, load ${r.loadMs} ms, ${r.tokens} tokens (${((Date.now() - t0) / 1000).toFixed(0)} s)${r.label ? ` — ${r.label}` : ''}`,
    );
  }
} finally {
  await browser.close();
  app?.stop();
  files.close();
}

// ---- 4. the table ------------------------------------------------------------------------------------
const wl = results.filter((r) => r.run.startsWith('wllama-'));
const bestDecode = wl.length ? Math.max(...wl.map((r) => r.decodeTokensPerSecond)) : undefined;
const bestFirst = wl.length ? Math.min(...wl.map((r) => r.firstTokenMs ?? Infinity)) : undefined;
const rows = results.map((r) => ({
  ...r,
  decodeVsWllamaBest: bestDecode && r.decodeTokensPerSecond ? Number((r.decodeTokensPerSecond / bestDecode).toFixed(3)) : null,
  // > 1: the first token comes later than wllama's best
  firstTokenVsWllamaBest: bestFirst && r.firstTokenMs ? Number((r.firstTokenMs / bestFirst).toFixed(2)) : null,
}));
const pad = (s, n) => String(s).padEnd(n);
console.log(
  `\n${pad('run', 13)}${pad('runs on', 44)}${pad('decode tok/s', 14)}${pad('1st token ms', 14)}${pad('load ms', 10)}${pad('decode ÷ wl', 13)}1st tok ÷ wl`,
);
for (const r of rows)
  console.log(
    `${pad(r.run, 13)}${pad((r.label ?? r.backend ?? '').slice(0, 42), 44)}${pad(r.decodeTokensPerSecond, 14)}${pad(r.firstTokenMs, 14)}${pad(r.loadMs, 10)}${pad(r.decodeVsWllamaBest ?? '', 13)}${r.firstTokenVsWllamaBest ?? ''}`,
  );
const auto = rows.find((r) => r.run === 'page-auto');
if (auto) console.log(`\nauto picked: ${auto.label}: ${auto.reason}`);
mkdirSync('bench-results', { recursive: true });
const report = {
  date: new Date().toISOString(),
  chromium: CHROMIUM,
  cpus: cpus().length,
  model: { path: modelPath, bytes: modelBytes, dims: opts.model ? null : Q8_BENCH_DIMS, vocab: opts.model ? null : Q8_BENCH_VOCAB, qtype: 'Q8_0' },
  promptTokens: promptIds,
  maxTokens: MAX_TOKENS,
  repeat: REPEAT,
  loadAverage: loadavg(),
  wllama: wllamaVersion,
  results: rows,
};
writeFileSync(join('bench-results', 'browser-bench.json'), `${JSON.stringify(report, null, 2)}\n`);
log('wrote bench-results/browser-bench.json');
