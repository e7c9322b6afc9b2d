// Builds the npm package into lib/ (vite.lib.config.ts), its .d.ts types (tsconfig.lib.json, with the
// repository's `.ts` import suffixes rewritten to `.js`), and copies the bundled model next to it.
// `npm pack` runs this first (prepack).
import { build } from 'vite';
import { execFileSync } from 'node:child_process';
import { copyFileSync, mkdirSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
process.chdir(root);
const lib = join(root, 'lib');
mkdirSync(lib, { recursive: true });
// Clean everything but lib/'s own ignore files.
for (const name of readdirSync(lib)) if (!name.startsWith('.')) rmSync(join(lib, name), { recursive: true, force: true });

for (const mode of ['node', 'browser']) await build({ configFile: join(root, 'vite.lib.config.ts'), mode });

execFileSync(process.execPath, [join(root, 'node_modules/typescript/bin/tsc'), '-p', 'tsconfig.lib.json'], { stdio: 'inherit' });
const rewrite = (dir) => {
  for (const name of readdirSync(dir)) {
    const p = join(dir, name);
    if (statSync(p).isDirectory()) rewrite(p);
    else if (p.endsWith('.d.ts')) writeFileSync(p, readFileSync(p, 'utf8').replace(/(from\s+|import\()(['"])(\.{1,2}\/[^'"]*?)\.tsx?\2/g, '$1$2$3.js$2'));
  }
};
rewrite(join(lib, 'types'));

mkdirSync(join(lib, 'models'), { recursive: true });
for (const f of ['sparsescope-kjv-5m-q8_0.gguf', 'MODEL.md']) copyFileSync(join(root, 'public/models', f), join(lib, 'models', f));
console.log('built lib/ (node.js, cli.js, browser/, types/, models/)');
