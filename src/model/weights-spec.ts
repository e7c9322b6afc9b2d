/**
 * The tensors a model of a given config must carry, with their ne-order shapes (fastest first), as
 * llama.cpp's load_arch_tensors creates them (docs/gguf.md). Used to check a file before loading and
 * by the fixture generator to write one.
 */
import { SparseScopeError } from '../errors.ts';
import { isMoeLayer, type ModelConfig, type TensorShapeInfo } from './config.ts';

export interface TensorSpec {
  readonly name: string;
  readonly shape: readonly number[];
  /** optional tensors (exp_probs_b.bias, output.weight) may be absent */
  readonly optional?: boolean;
}

export function expectedTensors(c: ModelConfig): TensorSpec[] {
  const E = c.embd;
  const H = c.heads;
  const kHead = c.qkNope + c.qkRope;
  const out: TensorSpec[] = [
    { name: 'token_embd.weight', shape: [E, c.vocab] },
    { name: 'output_norm.weight', shape: [E] },
  ];
  if (!c.tiedOutput) out.push({ name: 'output.weight', shape: [E, c.vocab] });
  for (let il = 0; il < c.layers; il++) {
    const p = `blk.${il}.`;
    const t = (name: string, shape: number[], optional = false) => out.push(optional ? { name: p + name, shape, optional } : { name: p + name, shape });
    t('attn_norm.weight', [E]);
    if (c.qLoraRank > 0) {
      t('attn_q_a.weight', [E, c.qLoraRank]);
      t('attn_q_a_norm.weight', [c.qLoraRank]);
      t('attn_q_b.weight', [c.qLoraRank, H * kHead]);
    } else {
      t('attn_q.weight', [E, H * kHead]);
    }
    t('attn_kv_a_mqa.weight', [E, c.kvLoraRank + c.qkRope]);
    t('attn_kv_a_norm.weight', [c.kvLoraRank]);
    if (c.mla === 'absorbed') {
      t('attn_k_b.weight', [c.qkNope, c.kvLoraRank, H]);
      t('attn_v_b.weight', [c.kvLoraRank, c.vHead, H]);
    } else {
      t('attn_kv_b.weight', [c.kvLoraRank, H * (c.qkNope + c.vHead)]);
    }
    t('attn_output.weight', [H * c.vHead, E]);
    if (c.indexer) {
      const { heads: HI, keyLength: DI } = c.indexer;
      t('indexer.attn_q_b.weight', [c.qLoraRank, HI * DI]);
      t('indexer.attn_k.weight', [E, DI]);
      t('indexer.k_norm.weight', [DI]);
      t('indexer.k_norm.bias', [DI]);
      t('indexer.proj.weight', [E, HI]);
    }
    t('ffn_norm.weight', [E]);
    if (!isMoeLayer(c, il)) {
      t('ffn_gate.weight', [E, c.ffn]);
      t('ffn_up.weight', [E, c.ffn]);
      t('ffn_down.weight', [c.ffn, E]);
    } else {
      const m = c.moe!;
      t('ffn_gate_inp.weight', [E, m.experts]);
      t('exp_probs_b.bias', [m.experts], true);
      t('ffn_gate_exps.weight', [E, m.ffx, m.experts]);
      t('ffn_up_exps.weight', [E, m.ffx, m.experts]);
      t('ffn_down_exps.weight', [m.ffx, E, m.experts]);
      if (m.shared > 0) {
        const w = m.ffx * m.shared;
        t('ffn_gate_shexp.weight', [E, w]);
        t('ffn_up_shexp.weight', [E, w]);
        t('ffn_down_shexp.weight', [w, E]);
      }
    }
  }
  return out;
}

/** Trailing 1s are equal to absent dims in ggml (a {E} tensor may be stored as {E, 1}). */
function sameShape(a: readonly number[], b: readonly number[]): boolean {
  const n = Math.max(a.length, b.length);
  for (let i = 0; i < n; i++) if ((a[i] ?? 1) !== (b[i] ?? 1)) return false;
  return true;
}

/**
 * Throws 'missing-tensor' naming the first missing required tensor, or 'wrong-shape' with expected vs
 * found. Returns the specs of the tensors present (optional ones only when the file has them).
 */
export function checkTensors(c: ModelConfig, tensors: readonly TensorShapeInfo[]): TensorSpec[] {
  return checkTensorList(() => expectedTensors(c), c.layers, c.arch, tensors);
}

/**
 * checkTensors for any architecture: `specs` gives the architecture's expected tensor list for a
 * `layers`-layer config of `arch` (src/model/architectures/ for the dense families); it is called
 * only once `layers` is known to match the file.
 */
export function checkTensorList(specs: () => readonly TensorSpec[], layers: number, arch: string, tensors: readonly TensorShapeInfo[]): TensorSpec[] {
  // block_count sizes every per-layer list (these specs first): it must match the layers the file
  // holds, before anything is built from it (a hostile 2^31 - 1 would otherwise exhaust memory)
  let fileLayers = 0;
  for (const t of tensors) {
    const m = /^blk\.(\d+)\./.exec(t.name);
    if (m) fileLayers = Math.max(fileLayers, Number(m[1]) + 1);
  }
  if (layers !== fileLayers) {
    throw new SparseScopeError(
      'bad-metadata',
      `metadata key "${arch}.block_count" (${layers}) does not match the file's tensors, which hold ${fileLayers} layers${fileLayers ? ` (blk.0 .. blk.${fileLayers - 1})` : ''}`,
    );
  }
  const byName = new Map(tensors.map((t) => [t.name, t]));
  const present: TensorSpec[] = [];
  for (const spec of specs()) {
    const t = byName.get(spec.name);
    if (t === undefined) {
      if (spec.optional) continue;
      throw new SparseScopeError('missing-tensor', `tensor "${spec.name}" is missing (expected ne [${spec.shape.join(', ')}] for this ${arch} config)`);
    }
    if (!sameShape(t.shape, spec.shape)) {
      throw new SparseScopeError('wrong-shape', `tensor "${spec.name}": expected ne [${spec.shape.join(', ')}], found [${t.shape.join(', ')}]`);
    }
    present.push(spec);
  }
  return present;
}
