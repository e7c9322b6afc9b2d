// The heavy suite: full-size real-shape twins (GB files, minutes) against llama.cpp, on the CPU
// reference and on WebGPU (lavapipe). Not part of `npm test`. SPARSESCOPE_TWINS=<label>,... picks
// twins (src/model/reference/testing/heavy-twins.ts); extra arguments go to vitest (a file filter).
import { spawnSync } from 'node:child_process';
import { adapterEnv, installedSoftwareAdapters } from './software-adapters.mjs';

const lavapipe = installedSoftwareAdapters().find((a) => a.name === 'lavapipe');
if (!lavapipe) {
  console.error('FAIL: the heavy suite runs WebGPU on lavapipe, which is not installed (run: npm run setup:test).');
  process.exit(1);
}
const res = spawnSync('npx', ['vitest', 'run', '--project', 'heavy', ...process.argv.slice(2)], {
  stdio: 'inherit',
  env: { ...process.env, ...adapterEnv(lavapipe), SPARSESCOPE_ADAPTER: 'lavapipe' },
});
process.exit(res.status ?? 1);
