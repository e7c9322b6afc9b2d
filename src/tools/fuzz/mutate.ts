/**
 * Deterministic, header-aware mutations of a GGUF file: case i of seed s is always the same bytes.
 * Kinds: truncation, bit flips (header-weighted), boundary values in every count/length/type field,
 * metadata rebuilt with hostile values (counts, wrong value types, tokenizer arrays, templates), and
 * tensor infos shuffled, duplicated or overlapping.
 */
import { serializeGguf, type GgufSpec } from '../../gguf/writer.ts';
import { createPrng } from '../../model/random.ts';
import { concat } from '../../gguf/test-fixtures.ts';
import type { GgufValue, GgufValueType } from '../../gguf/value-types.ts';
import { headerFields, type HeaderField } from './header-fields.ts';

export const BOUNDARY_U32 = [0, 1, 2, 3, 7, 8, 31, 63, 64, 255, 256, 0x7fff, 0xffff, 0x10000, 0x7fffffff, 0x80000000, 0xfffffffe, 0xffffffff];
export const BOUNDARY_U64 = [...BOUNDARY_U32.map(BigInt), 0x100000000n, 2n ** 53n, 2n ** 53n + 1n, 2n ** 63n - 1n, 2n ** 63n, 2n ** 64n - 1n];

export const HOSTILE_TEMPLATES = [
  '{% for i in range(1000000000) %}x{% endfor %}',
  '{% for i in range(100000) %}{% for j in range(100000) %}{% endfor %}{% endfor %}',
  "{% set ns = namespace(s='x') %}{% for i in range(64) %}{% set ns.s = ns.s ~ ns.s %}{% endfor %}{{ ns.s }}",
  '{% macro f(n) %}{{ f(n + 1) }}{% endmacro %}{{ f(0) }}',
  '{{ messages[0].content | indent(1000000000) }}',
  '{% for m in messages %}{{ m.content',
  "{{ raise_exception('hostile') }}",
];

/** Inputs that found bugs, kept as regression cases: each must give a typed error or load. */
export const REGRESSIONS: [string, Record<string, { type: GgufValueType; value: GgufValue }>][] = [
  // was accepted; the load then allocated per layer until V8 aborted (~56 s)
  ['block_count 2147483647', { 'deepseek32.block_count': { type: 'u32', value: 2147483647 } }],
  // renderChatPrompt built a billion-element array: V8 out of memory in ~3 s
  ['template range(1e9)', { 'tokenizer.chat_template': { type: 'string', value: '{% for i in range(1000000000) %}x{% endfor %}' } }],
];

export interface Mutation {
  kind: string;
  detail: string;
  bytes: Uint8Array;
}

export class Mutator {
  private readonly fields: HeaderField[];
  private readonly headerEnd: number;
  private readonly bytes: Uint8Array;
  /** the count-like keys of the metadata (integers), for rebuilt-metadata cases */
  private readonly countKeys: string[];

  constructor(private readonly spec: GgufSpec & { metadata: Record<string, { type: GgufValueType; value: GgufValue }> }) {
    this.bytes = concat(serializeGguf(spec));
    ({ fields: this.fields, headerEnd: this.headerEnd } = headerFields(this.bytes));
    this.countKeys = Object.entries(spec.metadata)
      .filter(([, e]) => /^(u|i)(8|16|32|64)$/.test(e.type))
      .map(([k]) => k);
  }

  get base(): Uint8Array {
    return this.bytes;
  }

  /** Case `i` of `seed`. */
  mutation(seed: number, i: number): Mutation {
    const r = createPrng(seed * 1_000_003 + i).next;
    const pick = <T>(a: readonly T[]): T => a[Math.floor(r() * a.length)];
    // hostile templates run up to their time bound each: one case in 100 is enough to cover them
    const kinds = ['truncate', 'bitflip', 'field', 'field', 'field', 'count-key', 'value-type', 'tokenizer', 'field', 'tensor-infos'] as const;
    const kind = i % 100 === 8 ? 'template' : kinds[i % kinds.length];
    switch (kind) {
      case 'truncate': {
        const at = r() < 0.7 ? Math.floor(r() * (this.headerEnd + 64)) : Math.floor(r() * this.bytes.length);
        return { kind, detail: `cut at ${at}`, bytes: this.bytes.slice(0, at) };
      }
      case 'bitflip': {
        const out = this.bytes.slice();
        const n = 1 + Math.floor(r() * 8);
        const where: number[] = [];
        for (let k = 0; k < n; k++) {
          const at = r() < 0.8 ? Math.floor(r() * this.headerEnd) : Math.floor(r() * out.length);
          out[at] ^= 1 << Math.floor(r() * 8);
          where.push(at);
        }
        return { kind, detail: `bits at ${where.join(',')}`, bytes: out };
      }
      case 'field': {
        const f = pick(this.fields);
        const out = this.bytes.slice();
        const v = new DataView(out.buffer);
        let val: string;
        if (f.kind === 'u32') {
          const x = pick(BOUNDARY_U32);
          v.setUint32(f.at, x, true);
          val = String(x);
        } else {
          const x = pick(BOUNDARY_U64);
          v.setBigUint64(f.at, x, true);
          val = String(x);
        }
        return { kind, detail: `${f.what} = ${val}`, bytes: out };
      }
      case 'count-key': {
        const key = pick(this.countKeys);
        const value = pick([0, 1, 2, 0x7fffffff, 0xffffffff, 2 ** 31 - 1]);
        return this.rebuilt(kind, `${key} = ${value}`, { [key]: { type: 'u32', value } });
      }
      case 'value-type': {
        const key = pick(Object.keys(this.spec.metadata));
        const [type, value] = pick<[GgufValueType, GgufValue]>([
          ['string', 'three'],
          ['f32', 2.5],
          ['u64', 18446744073709551615n],
          ['bool', true],
          ['i32', -1],
          ['u32[]', [1, 2, 3]],
          ['string[]', []],
        ]);
        return this.rebuilt(kind, `${key} as ${type}`, { [key]: { type, value } });
      }
      case 'tokenizer': {
        const tokens = this.spec.metadata['tokenizer.ggml.tokens']?.value as string[] | undefined;
        const n = tokens?.length ?? 0;
        const options: [string, Record<string, { type: GgufValueType; value: GgufValue }>][] = [
          ['no tokens', { 'tokenizer.ggml.tokens': { type: 'string[]', value: [] } }],
          ['half the tokens', { 'tokenizer.ggml.tokens': { type: 'string[]', value: (tokens ?? []).slice(0, n >> 1) } }],
          [
            'empty and huge token strings',
            { 'tokenizer.ggml.tokens': { type: 'string[]', value: (tokens ?? []).map((t, j) => (j % 3 === 0 ? '' : j % 3 === 1 ? t : 'x'.repeat(4096))) } },
          ],
          ['garbage merges', { 'tokenizer.ggml.merges': { type: 'string[]', value: ['a', ' ', 'ab cd ef', '\u0000 \u0000', 'Ġ Ġ'.repeat(100)] } }],
          ['token types out of range', { 'tokenizer.ggml.token_type': { type: 'i32[]', value: Array.from({ length: n }, (_, j) => (j % 2 ? 99 : -7)) } }],
          ['scores NaN', { 'tokenizer.ggml.scores': { type: 'f32[]', value: Array.from({ length: n }, () => Number.NaN) } }],
          ['bos beyond vocab', { 'tokenizer.ggml.bos_token_id': { type: 'u32', value: n + 5 } }],
          ['eos 2^32-1', { 'tokenizer.ggml.eos_token_id': { type: 'u32', value: 0xffffffff } }],
          ['unknown model', { 'tokenizer.ggml.model': { type: 'string', value: 'hostile' } }],
          ['unknown pre-tokenizer', { 'tokenizer.ggml.pre': { type: 'string', value: 'hostile' } }],
        ];
        const [detail, patch] = pick(options);
        return this.rebuilt(kind, detail, patch);
      }
      case 'template': {
        const t = pick(HOSTILE_TEMPLATES);
        return this.rebuilt(kind, t.slice(0, 40), { 'tokenizer.chat_template': { type: 'string', value: t } });
      }
      case 'tensor-infos': {
        const tensors = this.spec.tensors.slice();
        const how = pick(['shuffle', 'duplicate', 'drop', 'swap-shapes', 'overlap']);
        if (how === 'shuffle')
          for (let k = tensors.length - 1; k > 0; k--) {
            const j = Math.floor(r() * (k + 1));
            [tensors[k], tensors[j]] = [tensors[j], tensors[k]];
          }
        if (how === 'duplicate') {
          // our writer refuses a duplicate name, so make one in the header bytes: blk.1.x → blk.0.x
          const bytes = this.bytes.slice();
          const names = this.fields.filter((f) => f.what.endsWith(' name length') && f.owner.startsWith('tensor['));
          const enc = new TextEncoder();
          const candidates = names.filter((f) => new TextDecoder().decode(bytes.subarray(f.at + 8, f.at + 14)) === 'blk.1.');
          const f = pick(candidates);
          bytes.set(enc.encode('blk.0.'), f.at + 8);
          return { kind, detail: `duplicate name at ${f.at}`, bytes };
        }
        if (how === 'drop') tensors.splice(Math.floor(r() * tensors.length), 1);
        if (how === 'swap-shapes') {
          const a = Math.floor(r() * tensors.length);
          const b = Math.floor(r() * tensors.length);
          tensors[a] = { ...tensors[a], shape: tensors[b].shape, data: tensors[b].data, type: tensors[b].type };
        }
        if (how === 'overlap') {
          // point one tensor's offset into another's bytes (after serializing in order)
          const bytes = concat(serializeGguf({ ...this.spec, tensors }));
          const { fields } = headerFields(bytes);
          const offs = fields.filter((f) => f.what.endsWith(' offset'));
          const f = pick(offs.slice(1));
          new DataView(bytes.buffer).setBigUint64(f.at, 32n, true);
          return { kind, detail: `${f.owner} offset → 32`, bytes };
        }
        return { kind, detail: how, bytes: concat(serializeGguf({ ...this.spec, tensors })) };
      }
    }
  }

  /** The base file with metadata entries replaced (regression cases). */
  rebuilt(kind: string, detail: string, patch: Record<string, { type: GgufValueType; value: GgufValue }>): Mutation {
    try {
      return { kind, detail, bytes: concat(serializeGguf({ ...this.spec, metadata: { ...this.spec.metadata, ...patch } })) };
    } catch (e) {
      // our writer refused the value (e.g. out of its type's range): fuzz the unmutated file instead
      return { kind, detail: `${detail} (writer refused: ${(e as Error).message.slice(0, 60)})`, bytes: this.bytes };
    }
  }
}
