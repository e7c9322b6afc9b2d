/**
 * The GPU suite must FAIL, not skip, when no adapter exists: a skipped suite would hide every kernel.
 * We run the real suite in a subprocess with the Vulkan loader pointed at a driver file that does not exist.
 */
import { spawnSync } from 'node:child_process';
import { describe, expect, it } from 'vitest';

// eslint-disable-next-line no-control-regex -- ANSI colour codes are control characters by definition
const strip = (s: string) => s.replace(/\x1b\[[0-9;]*m/g, '');

describe('GPU suite without an adapter', () => {
  it('fails the kernel tests when Dawn finds no adapter', () => {
    const env: NodeJS.ProcessEnv = { ...process.env, VK_DRIVER_FILES: '/nonexistent/icd.json', VK_ICD_FILENAMES: '/nonexistent/icd.json' };
    delete env.SPARSESCOPE_ADAPTER;
    delete env.SPARSESCOPE_REPORT_DIR; // its failures are the expected outcome, not the suite's (scripts/test.mjs)
    const res = spawnSync('npx', ['vitest', 'run', '--project', 'gpu', 'src/gpu/shaders/rmsnorm'], { env, encoding: 'utf8' });
    const out = strip(res.stdout + res.stderr);
    expect(res.status).not.toBe(0);
    expect(out).toMatch(/No WebGPU adapter found/);
    expect(out).toMatch(/Tests\s+\d+ failed/);
    expect(out).not.toMatch(/skipped/);
  });

  it('fails the per-adapter runner when a named adapter is not installed', () => {
    const res = spawnSync('node', ['scripts/gpu-suite.mjs'], {
      env: { ...process.env, SPARSESCOPE_ADAPTERS: 'no-such-adapter', SPARSESCOPE_REPORT_DIR: '' },
      encoding: 'utf8',
    });
    expect(res.status).toBe(1);
    expect(res.stderr).toMatch(/FAIL: the no-such-adapter adapter is not installed/);
  });
});
