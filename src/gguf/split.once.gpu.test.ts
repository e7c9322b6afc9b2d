/**
 * `cli logits --backend webgpu` on part 1 of a 3-part split set prints byte for byte what it prints
 * for the whole file (the weights stream from three files into the same buffers).
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { buildFixture } from '../tools/fixture/fixture.ts';
import { cli } from '../cli/testing/run-cli.ts';
import { writeGgufFile, writeSplitGguf } from './write-file.ts';

const dir = mkdtempSync(join(tmpdir(), 'sparsescope-split-gpu-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('a 3-part split set on the WebGPU backend', () => {
  it('cli logits on part 1 equals the whole file', async () => {
    const fx = buildFixture({ arch: 'deepseek32', gating: 'sigmoid', dims: { topK: 4 }, seed: 32, qtype: 'Q8_0' });
    const spec = { metadata: fx.metadata, tensors: fx.tensors };
    const whole = join(dir, 'whole.gguf');
    await writeGgufFile(whole, spec);
    const [part1] = await writeSplitGguf(join(dir, 'set'), spec, 3);
    const tokens = [fx.bos, 5, 9, 200, 17, 3].join(',');
    const w = await cli('logits', whole, '--tokens', tokens, '--backend', 'webgpu');
    const s = await cli('logits', part1, '--tokens', tokens, '--backend', 'webgpu');
    expect(w.code, w.stderr).toBe(0);
    expect(s.code, s.stderr).toBe(0);
    expect(JSON.parse(w.stdout).logits).toHaveLength(6);
    expect(s.stdout).toBe(w.stdout);
  });
});
