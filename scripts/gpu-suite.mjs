// Runs the `gpu` vitest project once per software WebGPU adapter, each run named in the output.
// A missing adapter is a FAILURE, never a skip: the suite that would have run on it did not.
// Extra arguments go to vitest (e.g. a file filter).
import { spawnSync } from 'node:child_process';
import { adapterEnv, installedSoftwareAdapters } from './software-adapters.mjs';

const REQUIRED = ['swiftshader', 'lavapipe'];
const installed = installedSoftwareAdapters();
const only = process.env.SPARSESCOPE_ADAPTERS?.split(',');
let failed = false;

for (const name of only ?? REQUIRED) {
  const adapter = installed.find((a) => a.name === name);
  console.log(`\n=== GPU suite on ${name} ===`);
  if (!adapter) {
    console.error(`FAIL: the ${name} adapter is not installed (run: npm run setup:test).`);
    failed = true;
    continue;
  }
  const res = spawnSync('npx', ['vitest', 'run', '--project', 'gpu', ...process.argv.slice(2)], {
    stdio: 'inherit',
    env: { ...process.env, ...adapterEnv(adapter), SPARSESCOPE_ADAPTER: name },
  });
  if (res.status !== 0) {
    console.error(`FAIL: GPU suite on ${name} exited with ${res.status ?? res.signal}`);
    failed = true;
  } else console.log(`=== GPU suite on ${name}: passed ===`);
}
// The comparison with llama.cpp and the adapter-independent engine tests run once, on lavapipe (the fastest software adapter).
const llamaAdapter = installed.find((a) => a.name === 'lavapipe');
if (!only || only.includes('lavapipe')) {
  console.log('\n=== once on lavapipe: WebGPU engine vs llama.cpp, engine protocol, bench smoke run ===');
  if (!llamaAdapter) {
    console.error('FAIL: lavapipe is not installed (run: npm run setup:test).');
    failed = true;
  } else {
    const filtered = process.argv.length > 2 ? ['--passWithNoTests'] : [];
    const res = spawnSync('npx', ['vitest', 'run', '--project', 'gpu-once', ...filtered, ...process.argv.slice(2)], {
      stdio: 'inherit',
      env: { ...process.env, ...adapterEnv(llamaAdapter), SPARSESCOPE_ADAPTER: 'lavapipe' },
    });
    if (res.status !== 0) {
      console.error(`FAIL: the once-on-lavapipe tests exited with ${res.status ?? res.signal}`);
      failed = true;
    } else console.log('=== once on lavapipe: passed ===');
  }
}
process.exit(failed ? 1 : 0);
