// `npm test`: every check, in order, each named in the output. Runs them all and exits non-zero if any failed.
//   setup     installs (as root on Debian) or names the system packages the GPU and browser tests need
//   typecheck tsc --noEmit over src, e2e, scripts
//   format    prettier --check (the house style: .prettierrc.json; `npx prettier --write .` fixes it)
//   lint      eslint
//   unit      vitest project `unit`: pure TS, CPU reference, llama.cpp comparisons, no-adapter check
//   gpu       vitest project `gpu` once per software adapter (SwiftShader, lavapipe)
//   e2e       vitest project `e2e`: the page in Debian chromium with WebGPU
import { spawnSync } from 'node:child_process';

const steps = [
  ['setup', 'node', ['scripts/setup-test-env.mjs']],
  ['typecheck', 'npx', ['tsc', '-p', 'tsconfig.json', '--noEmit']],
  ['format', 'npx', ['prettier', '--check', '.']],
  ['lint', 'npx', ['eslint', '.']],
  ['unit', 'npx', ['vitest', 'run', '--project', 'unit']],
  ['gpu', 'node', ['scripts/gpu-suite.mjs']],
  ['e2e', 'npx', ['vitest', 'run', '--project', 'e2e']],
];
const only = process.argv.slice(2);
const results = [];
for (const [name, cmd, args] of steps) {
  if (only.length && !only.includes(name)) continue;
  console.log(`\n##### ${name}: ${cmd} ${args.join(' ')}`);
  const t0 = Date.now();
  const res = spawnSync(cmd, args, { stdio: 'inherit', env: { ...process.env, FORCE_COLOR: process.env.CI ? '0' : process.env.FORCE_COLOR } });
  const ok = res.status === 0;
  results.push({ name, ok, s: ((Date.now() - t0) / 1000).toFixed(1) });
  if (name === 'setup' && !ok) break; // without the system packages the rest can only fail
}
console.log('\n##### summary');
for (const r of results) console.log(`${r.ok ? 'PASS' : 'FAIL'}  ${r.name.padEnd(10)} ${r.s}s`);
const failed = results.filter((r) => !r.ok).length;
console.log(`steps: ${results.length - failed} passed, ${failed} failed`);
process.exit(failed ? 1 : 0);
