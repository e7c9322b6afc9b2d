// `npm test`: every check, in order, each named in the output. Runs them all and exits non-zero if any failed.
//   setup     installs (as root on Debian) or names the system packages the GPU and browser tests need
//   typecheck tsc --noEmit over src, e2e, scripts
//   format    prettier --check (the house style: .prettierrc.json; `npx prettier --write .` fixes it)
//   lint      eslint
//   unit      vitest project `unit`: pure TS, CPU reference, llama.cpp comparisons, no-adapter check
//   gpu       vitest project `gpu` once per software adapter (SwiftShader, lavapipe)
//   e2e       vitest project `e2e`: the page in Debian chromium with WebGPU
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

const steps = [
  ['setup', 'node', ['scripts/setup-test-env.mjs']],
  ['typecheck', 'npx', ['tsc', '-p', 'tsconfig.json', '--noEmit']],
  ['format', 'npx', ['prettier', '--check', '.']],
  ['lint', 'npx', ['eslint', '.']],
  ['unit', 'npx', ['vitest', 'run', '--project', 'unit']],
  ['gpu', 'node', ['scripts/gpu-suite.mjs']],
  ['e2e', 'npx', ['vitest', 'run', '--project', 'e2e']],
];
// terminal colour codes (ESC [ … m), which the messages carry when colour is on
const ANSI_COLOUR = new RegExp(`${String.fromCharCode(27)}\\[[0-9;]*m`, 'g');
const only = process.argv.slice(2);
const results = [];
// Every vitest run writes a JSON report here (vitest.config.ts), so the summary can name what failed.
const reportDir = mkdtempSync(join(tmpdir(), 'sparsescope-test-'));
for (const [name, cmd, args] of steps) {
  if (only.length && !only.includes(name)) continue;
  console.log(`\n##### ${name}: ${cmd} ${args.join(' ')}`);
  const t0 = Date.now();
  const stepDir = join(reportDir, name);
  const res = spawnSync(cmd, args, {
    stdio: 'inherit',
    env: { ...process.env, SPARSESCOPE_REPORT_DIR: stepDir, FORCE_COLOR: process.env.CI ? '0' : process.env.FORCE_COLOR },
  });
  const ok = res.status === 0;
  // Only a failed step's reports are read: a passing one may hold tests that run a suite meant to fail
  let failures = [];
  try {
    if (!ok) failures = failedTests(stepDir);
  } catch (e) {
    failures = [`(the step's test reports could not be read: ${e.message})`]; // the report is a help, never the verdict
  }
  results.push({ name, ok, s: ((Date.now() - t0) / 1000).toFixed(1), failures });
  if (name === 'setup' && !ok) break; // without the system packages the rest can only fail
}
rmSync(reportDir, { recursive: true, force: true });
console.log('\n##### summary');
for (const r of results) {
  console.log(`${r.ok ? 'PASS' : 'FAIL'}  ${r.name.padEnd(10)} ${r.s}s`);
  // The summary is the tail of a long log: repeat what failed, where and why, here
  for (const f of r.failures.slice(0, 12)) console.log(`      ✗ ${f}`);
  if (r.failures.length > 12) console.log(`      … and ${r.failures.length - 12} more failed tests`);
}
const failed = results.filter((r) => !r.ok).length;
console.log(`steps: ${results.length - failed} passed, ${failed} failed`);
process.exit(failed ? 1 : 0);

/** "file > test name: first lines of the message" for each failed test (or failed file) in a step's vitest reports. */
function failedTests(dir) {
  let files = [];
  try {
    files = readdirSync(dir).filter((f) => f.endsWith('.json'));
  } catch {
    return []; // not a vitest step, or it wrote no report
  }
  const out = [];
  for (const f of files) {
    let report;
    try {
      report = JSON.parse(readFileSync(join(dir, f), 'utf8'));
    } catch (e) {
      out.push(`${f}: unreadable report (${e.message})`);
      continue;
    }
    const run = f.replace(/^vitest-|-\d+\.json$/g, '');
    for (const file of report.testResults ?? []) {
      const where = `[${run}] ${file.name.replace(process.cwd() + '/', '')}`;
      const failedAssertions = (file.assertionResults ?? []).filter((a) => a.status === 'failed');
      for (const a of failedAssertions) out.push(`${where} > ${a.fullName}: ${brief(a.failureMessages?.[0])}`);
      if (file.status === 'failed' && failedAssertions.length === 0) out.push(`${where}: ${brief(file.message)}`);
    }
  }
  return out;
}

function brief(message = '') {
  const text = String(message)
    .replace(ANSI_COLOUR, '')
    .split('\n')
    .filter((l) => l.trim() && !/^\s+at /.test(l));
  return text.slice(0, 4).join(' | ').slice(0, 500);
}
