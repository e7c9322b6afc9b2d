#!/usr/bin/env node
// The `sparsescope` command (`sparsescope serve ...`): the built server (lib/cli.js, from src/server/main.ts).
// In a repository checkout, build it first: npm run build:lib.
import { existsSync } from 'node:fs';

const cli = new URL('../lib/cli.js', import.meta.url);
if (!existsSync(cli)) {
  console.error('sparsescope: lib/cli.js is missing; in a checkout run `npm run build:lib` first');
  process.exit(2);
}
await import(cli.href);
