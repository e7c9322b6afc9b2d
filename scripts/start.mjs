// `npm start`: the production build (with its service worker, so the page works offline after the first
// visit) served by `vite preview`, exactly what users get. `npm run dev` is the hot-reloading dev server.
//
//   npm start                          # http://127.0.0.1:4173/ (the next free port if taken)
//   PORT=8080 npm start                # or: npm start -- --port 8080 [--strictPort] [--host 0.0.0.0]
//   npm start -- --rebuild             # build even if dist/ is up to date
//   SPARSESCOPE_TEST_BUILD=1 npm start # the e2e harness's test build (with window.__sparsescope), kept in
//                                      # .cache/dist-test so dist/ stays the production build users get
//
// dist/ is rebuilt only when its inputs changed: a fingerprint (path, size, mtime) of index.html, the
// configs, the lockfiles and every file under src/ (tests excluded: nothing bundles them) and public/ is
// kept in dist/.build-fingerprint. The build goes to .cache/ first and replaces dist/ only once complete.
// NODE_ENV is forced to production: under NODE_ENV=test (vitest) Vite would build without
// import.meta.env.PROD, hence without registering the service worker.
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, readdirSync, readFileSync, renameSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';

process.env.NODE_ENV = 'production';
const root = join(dirname(fileURLToPath(import.meta.url)), '..');
process.chdir(root);
const { build, preview } = await import('vite');

const { values: opts } = parseArgs({
  options: {
    port: { type: 'string' },
    host: { type: 'string' },
    strictPort: { type: 'boolean' },
    rebuild: { type: 'boolean' },
  },
});
const port = Number(opts.port ?? process.env.PORT ?? 4173);
if (!Number.isInteger(port) || port < 0 || port > 65535) throw new Error(`not a port: ${opts.port ?? process.env.PORT}`);

// vite.config.ts reads SPARSESCOPE_TEST_BUILD too: it puts the e2e hook in the bundle.
const TEST_BUILD = process.env.SPARSESCOPE_TEST_BUILD === '1';
const DIST = TEST_BUILD ? join('.cache', 'dist-test') : 'dist';
const STAMP = join(DIST, '.build-fingerprint'); // no .json: workbox precaches **/*.json
const INPUT_FILES = ['index.html', 'vite.config.ts', 'tsconfig.json', 'package.json', 'package-lock.json', 'node_modules/.package-lock.json'];
const INPUT_DIRS = ['src', 'public'];
const log = (msg) => console.log(`[start] ${msg}`);

function fingerprint() {
  const lines = [];
  const add = (p) => {
    const s = statSync(p, { throwIfNoEntry: false });
    lines.push(s ? `${p}\0${s.size}\0${s.mtimeMs}` : `${p}\0absent`);
  };
  const walk = (dir) => {
    for (const e of readdirSync(dir, { withFileTypes: true })) {
      const p = join(dir, e.name);
      if (e.isDirectory()) walk(p);
      else if (!/\.test\.tsx?$/.test(e.name)) add(p);
    }
  };
  INPUT_FILES.forEach(add);
  INPUT_DIRS.forEach(walk);
  return createHash('sha256').update(lines.sort().join('\n')).digest('hex');
}

const before = fingerprint();
const current = existsSync(STAMP) ? readFileSync(STAMP, 'utf8').trim() : null;
if (!opts.rebuild && current === before) {
  log(`${DIST}/ is up to date with src/ and public/; not rebuilding`);
} else {
  const t0 = Date.now();
  const tmp = join('.cache', `start-build-${process.pid}`);
  mkdirSync('.cache', { recursive: true });
  log(`building the ${TEST_BUILD ? 'TEST build (with the e2e hook)' : 'production build'} (${current ? 'sources changed' : 'no previous build'})…`);
  try {
    await build({ mode: 'production', logLevel: 'warn', build: { outDir: tmp, emptyOutDir: true } });
    if (!existsSync(join(tmp, 'sw.js'))) throw new Error('the build has no service worker (sw.js)');
    // Sources edited during the build: keep this build, but leave no stamp so the next start rebuilds.
    if (fingerprint() === before) writeFileSync(join(tmp, '.build-fingerprint'), `${before}\n`);
    const old = existsSync(DIST) ? join('.cache', `start-old-${process.pid}`) : null;
    if (old) renameSync(DIST, old);
    renameSync(tmp, DIST);
    if (old) rmSync(old, { recursive: true, force: true });
  } finally {
    rmSync(tmp, { recursive: true, force: true });
  }
  log(`built ${DIST}/ in ${((Date.now() - t0) / 1000).toFixed(1)} s`);
}

const server = await preview({
  mode: 'production',
  build: { outDir: DIST },
  preview: { port, strictPort: opts.strictPort ?? false, ...(opts.host ? { host: opts.host } : {}), open: false },
});
log(`serving ${DIST}/ (the ${TEST_BUILD ? 'test' : 'production'} build; the page works offline after the first visit):`);
server.printUrls();
