/**
 * Oracle top-k through the CPU engine (quantized rows, 2 threads, chunked prefill) on deepseek32:
 * k ≥ tokens = dense bitwise (the same engine, indexTopK 0); a small k = the f32 reference's oracle
 * logits (independent weights path, within the engine's 1e-4 of the largest logit); the trace carries
 * the oracle's picks beside the indexer's and the recall between them.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { openGguf } from '../../gguf/reader.ts';
import { ReferenceModel } from '../../model/reference/forward.ts';
import { loadReferenceModelData } from '../../model/reference/weights.ts';
import { writeFixture } from '../../tools/fixture/fixture.ts';
import { CpuModel } from './cpu-model.ts';

const dir = mkdtempSync(join(tmpdir(), 'cpu-oracle-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));
const TOKENS = Array.from({ length: 24 }, (_, i) => (i * 53 + 7) % 300);
const same = (a: Float32Array, b: Float32Array) => Buffer.from(a.buffer, a.byteOffset, a.byteLength).equals(Buffer.from(b.buffer, b.byteOffset, b.byteLength));

describe('CpuModel oracle top-k (deepseek32)', () => {
  it('k ≥ tokens = dense bitwise; k = 4 = the f32 reference oracle; trace: oracle picks, indexer picks, recall', async () => {
    const path = join(dir, 'ds32.gguf');
    await writeFixture(path, {
      arch: 'deepseek32',
      gating: 'sigmoid',
      mix: 'Q4_K_M',
      dims: { embd: 256, qLora: 256, kvLora: 256, ffn: 256, ffx: 256, topK: 6 },
      seed: 21,
    });
    const f = await openGguf({ kind: 'path', path });
    const m = await CpuModel.load(f, { threads: 2, contextSize: 64 });
    try {
      const dense = (await m.session({ indexTopK: 0 }).feed(TOKENS, { allLogits: true })).logits;
      const all = (await m.session({ oracleTopK: TOKENS.length }).feed(TOKENS, { allLogits: true })).logits;
      all.forEach((row, i) => expect(same(row, dense[i])).toBe(true));
      const r = await m.session({ oracleTopK: 4, trace: true }).feed(TOKENS, { allLogits: true });
      const { config, weights } = await loadReferenceModelData(f);
      const want = new ReferenceModel(config, weights).forward(TOKENS, { oracleTopK: 4 }).logits;
      let worst = 0;
      let moved = 0;
      want.forEach((row, i) => {
        const scale = row.reduce((a, v) => Math.max(a, Math.abs(v)), 0);
        row.forEach((v, j) => {
          worst = Math.max(worst, Math.abs(v - r.logits[i][j]) / scale);
          moved = Math.max(moved, Math.abs(dense[i][j] - r.logits[i][j]) / scale);
        });
      });
      expect(worst).toBeLessThan(1e-4);
      expect(moved).toBeGreaterThan(1e-3);
      for (const t of r.trace!)
        for (const l of t.layers) {
          expect(l.oracle).toHaveLength(Math.min(4, t.pos + 1));
          expect(l.indexer!.chosen).toHaveLength(Math.min(6, t.pos + 1));
          expect(l.oracleRecall).toBe(l.oracle!.filter((s) => l.indexer!.chosen.includes(s)).length / l.oracle!.length);
        }
    } finally {
      m.destroy();
      await f.close();
    }
  });
});
