/**
 * A fixture written whole and as a 3-part split set (writeSplitGguf): llama.cpp loads the set from
 * part 1 with the same log-probabilities as the whole file (so our parts are what gguf-split
 * writes), and `cli logits` on part 1 prints byte for byte what it prints for the whole file.
 */
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { buildFixture } from '../tools/fixture/fixture.ts';
import { cli } from '../cli/testing/run-cli.ts';
import { llamaSuite } from '../model/reference/testing/llama-ref.ts';
import { writeGgufFile, writeSplitGguf } from './write-file.ts';

const suite = llamaSuite('split');

describe('a 3-part split set is the same model as the whole file', () => {
  it('in llama.cpp and in cli logits (cpu backend)', async () => {
    const fx = buildFixture({ arch: 'deepseek32', gating: 'sigmoid', dims: { topK: 4 }, seed: 31, qtype: 'Q8_0' });
    const spec = { metadata: fx.metadata, tensors: fx.tensors };
    const whole = join(suite.dir, 'whole.gguf');
    await writeGgufFile(whole, spec);
    const [part1] = await writeSplitGguf(join(suite.dir, 'set'), spec, 3);
    const tokens = [fx.bos, 5, 9, 200, 17, 3, 44, 8];

    const a = await suite.llama.loadModel(whole);
    const b = await suite.llama.loadModel(part1);
    const la = await a.logProbs(tokens),
      lb = await b.logProbs(tokens);
    expect(lb.length).toBe(tokens.length);
    lb.forEach((row, i) => expect(Array.from(row)).toEqual(Array.from(la[i])));

    const w = await cli('logits', whole, '--tokens', tokens.join(','), '--backend', 'cpu');
    const s = await cli('logits', part1, '--tokens', tokens.join(','), '--backend', 'cpu');
    expect(w.code, w.stderr).toBe(0);
    expect(s.code, s.stderr).toBe(0);
    expect(JSON.parse(w.stdout).logits).toHaveLength(tokens.length);
    expect(s.stdout).toBe(w.stdout);
  });
});
