/**
 * The training pipeline's smoke test (tools/train/smoke.sh): a few steps of every DSA stage on tiny
 * sizes, export through the project's GGUF writer, read back (~7 s on 2 cores). It needs PyTorch, which
 * `npm run setup:test` installs (Debian's python3-torch); where torch is absent the script prints SKIP
 * and this test FAILS, saying so: it never passes without having run. Nothing else in the suite needs torch.
 */
import { spawnSync } from 'node:child_process';
import { describe, expect, it } from 'vitest';

describe('training smoke test', () => {
  it('trains, exports and reads back a tiny deepseek32', () => {
    const r = spawnSync('sh', ['tools/train/smoke.sh'], { encoding: 'utf8', timeout: 240_000 });
    const out = `${r.stdout}${r.stderr}`;
    const skipped = /^SKIP:.*$/m.exec(r.stdout ?? '');
    if (skipped) {
      expect.fail(
        `the training smoke test could not run: ${skipped[0]}\nRun \`npm run setup:test\` (as root on Debian 12 it installs python3-torch; elsewhere it prints the apt-get command).`,
      );
    }
    expect(r.status, out).toBe(0);
    expect(r.stdout).toMatch(/SMOKE OK/);
  }, 300_000);
});
