#!/usr/bin/env node
// The `sparsescope` command (`sparsescope serve ...`): the built server (dist/lib/cli.js, from src/server/main.ts).
// In a repository checkout, build it first (npm run build:lib), or use `npm run serve`, which runs the sources.
import { existsSync } from 'node:fs';

const cli = new URL('../dist/lib/cli.js', import.meta.url);
if (!existsSync(cli)) {
  console.error('sparsescope: dist/lib/cli.js is missing; in a checkout run `npm run build:lib` first, or `npm run serve`');
  process.exit(2);
}
await import(cli.href);
