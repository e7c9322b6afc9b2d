/**
 * Test data for the quantized kernels: rows of valid blocks of any weight type, built from seeded
 * random bytes (every bit pattern of the quants occurs) with the float fields set to sane finite
 * values, so no quantizer is needed and the data are the same on every run.
 */
import { WEIGHT_TYPES, rowBytes, type WeightType } from './quant-types.ts';

function rng(seed: number): () => number {
  let s = seed >>> 0;
  return () => {
    s = (s + 0x6d2b79f5) >>> 0;
    let t = s;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** An f16 bit pattern of magnitude in [2^lo, 2^hi), random sign when `signed`. */
function randomF16Bits(r: () => number, lo: number, hi: number, signed: boolean): number {
  const e = 15 + lo + Math.floor(r() * (hi - lo));
  const m = Math.floor(r() * 1024);
  return (signed && r() < 0.5 ? 0x8000 : 0) | (e << 10) | m;
}

/** `rows` rows of K values of `type`, as the bytes a GGUF file would hold. Values are O(0.01-1). */
export function randomWeightBytes(type: WeightType, rows: number, k: number, seed: number): Uint8Array {
  const r = rng(seed);
  const bytes = new Uint8Array(rows * rowBytes(type, k));
  for (let i = 0; i < bytes.length; i++) bytes[i] = Math.floor(r() * 256);
  const dv = new DataView(bytes.buffer);
  const { blockBytes } = WEIGHT_TYPES[type];
  const blocks = bytes.length / blockBytes;
  for (let b = 0; b < blocks; b++) {
    const o = b * blockBytes;
    switch (type) {
      case 'F32':
        dv.setFloat32(o, (r() * 2 - 1) * 2, true);
        break;
      case 'F16':
      case 'BF16': {
        const h = randomF16Bits(r, -6, 1, true);
        if (type === 'F16') dv.setUint16(o, h, true);
        else {
          // The same magnitude as a bfloat16: f32 bits of the f16 value, top half.
          const v = new Float32Array([(h & 0x8000 ? -1 : 1) * (1 + (h & 0x3ff) / 1024) * 2 ** (((h >> 10) & 0x1f) - 15)]);
          dv.setUint16(o, new Uint32Array(v.buffer)[0] >>> 16, true);
        }
        break;
      }
      case 'Q8_0':
        dv.setUint16(o, randomF16Bits(r, -9, -6, true), true); // d: |q| <= 128 -> values up to ~1
        break;
      case 'Q4_0':
      case 'Q5_0':
        dv.setUint16(o, randomF16Bits(r, -5, -3, true), true);
        break;
      case 'Q4_K':
      case 'Q5_K':
        dv.setUint16(o, randomF16Bits(r, -10, -8, false), true); // d x 63 x 15 -> ~1
        dv.setUint16(o + 2, randomF16Bits(r, -10, -8, false), true); // dmin
        break;
      case 'Q6_K':
        dv.setUint16(o + 208, randomF16Bits(r, -13, -11, false), true); // d x 127 x 32 -> ~1
        break;
    }
  }
  return bytes;
}

/** Runs `encode` into one submitted command buffer and throws on any validation or out-of-memory error. */
export async function submitChecked(device: GPUDevice, encode: (enc: GPUCommandEncoder) => void): Promise<void> {
  device.pushErrorScope('out-of-memory');
  device.pushErrorScope('validation');
  const enc = device.createCommandEncoder();
  encode(enc);
  device.queue.submit([enc.finish()]);
  const errors = [await device.popErrorScope(), await device.popErrorScope()].filter((e) => e);
  if (errors.length) throw new Error(`GPU error: ${errors.map((e) => e!.message).join('\n')}`);
}
