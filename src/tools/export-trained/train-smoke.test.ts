/**
 * The training pipeline's smoke test (tools/train/smoke.sh): a few steps of every DSA stage on tiny
 * sizes, export through the project's GGUF writer, read back. It needs PyTorch; where torch is absent
 * the script says SKIP and this test reports that plainly. Nothing else in the suite needs torch.
 */
import { spawnSync } from 'node:child_process';
import { describe, expect, it } from 'vitest';

describe('training smoke test', () => {
  it('trains, exports and reads back a tiny deepseek32 (or says plainly that torch is absent)', () => {
    const r = spawnSync('sh', ['tools/train/smoke.sh'], { encoding: 'utf8', timeout: 240_000 });
    const out = `${r.stdout}${r.stderr}`;
    if (/^SKIP:/m.test(r.stdout)) {
      console.log(`training smoke test SKIPPED: ${r.stdout.trim()}`);
      return;
    }
    expect(r.status, out).toBe(0);
    expect(r.stdout).toMatch(/SMOKE OK/);
  }, 300_000);
});
