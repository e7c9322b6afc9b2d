// Builds the npm package into dist/lib/ (vite.lib.config.ts), its .d.ts types (tsconfig.lib.json, with the
// repository's `.ts` import suffixes rewritten to `.js`), and copies the bundled model next to it.
// `npm pack` runs this first (prepack). dist/ is ignored by git and eslint; the app's build empties dist/,
// which is why the pack always rebuilds dist/lib. Vite's warning that ./models/*.gguf "doesn't exist at build time" is
// expected: the URL is for the app that bundles the package (see src/api/browser.ts).
import { build } from 'vite';
import { execFileSync } from 'node:child_process';
import { copyFileSync, mkdirSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
process.chdir(root);
const lib = join(root, 'dist', 'lib');
mkdirSync(lib, { recursive: true });
for (const name of readdirSync(lib)) rmSync(join(lib, name), { recursive: true, force: true });

for (const mode of ['node', 'browser']) await build({ configFile: join(root, 'vite.lib.config.ts'), mode });

// Vite's lib build writes `"" + import.meta.url` for a URL it could not resolve; an app's bundler only
// recognises the literal `new URL('./x', import.meta.url)` form, so put that back for the model's URL.
const browserEntry = join(lib, 'browser', 'browser.js');
const entry = readFileSync(browserEntry, 'utf8');
const fixed = entry.replace(/new URL\(("\.\/models\/[^"]+\.gguf"), "" \+ import\.meta\.url\)/g, 'new URL($1, import.meta.url)');
if (fixed === entry) throw new Error('build-lib: the bundled model URL was not found in dist/lib/browser/browser.js');
writeFileSync(browserEntry, fixed);

execFileSync(process.execPath, [join(root, 'node_modules/typescript/bin/tsc'), '-p', 'tsconfig.lib.json'], { stdio: 'inherit' });
const rewrite = (dir) => {
  for (const name of readdirSync(dir)) {
    const p = join(dir, name);
    if (statSync(p).isDirectory()) rewrite(p);
    else if (p.endsWith('.d.ts')) writeFileSync(p, readFileSync(p, 'utf8').replace(/(from\s+|import\()(['"])(\.{1,2}\/[^'"]*?)\.tsx?\2/g, '$1$2$3.js$2'));
  }
};
rewrite(join(lib, 'types'));

// One copy of the model, next to the browser entry (src/api/browser.ts says why); Node finds it there too.
const models = join(lib, 'browser', 'models');
mkdirSync(models, { recursive: true });
for (const f of ['sparsescope-kjv-5m-q8_0.gguf', 'MODEL.md']) copyFileSync(join(root, 'public/models', f), join(models, f));
console.log('built dist/lib/ (node.js, cli.js, browser/ with models/, types/)');
