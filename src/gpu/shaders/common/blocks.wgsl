// Block loaders for every GGUF weight type the kernels read in place, shared by matvec, matmul and
// embedding. Each decodes one CHUNK of 32 consecutive values of a row into 8 vec4 (value order = row
// order), following ggml's dequantize_row_* formulas.
//
// The including kernel declares `W: array<vec4<u32>>` (the weight bytes, row-major blocks, the buffer
// padded to 16 bytes) and `alias T` (f32, or f16 for the f16-arithmetic variant). blocks.ts keeps the
// loader a pipeline needs as `load_chunk(row_byte, c, n)`:
//   row_byte — byte offset of the row inside W (any even offset: Q8_0/Q4_0/Q6_K/F16 rows need not be aligned)
//   c        — chunk index in the row (values 32c .. 32c+31)
//   n        — values of this chunk inside the row (32 except a float row's tail; quant types ignore it)
//
// All weight reads are 16-byte vec4 loads: on llvmpipe (lavapipe) a load costs about the same for 4 or
// 16 bytes, so scalar u32 loads ran ~4x slower. Data at 2-byte-aligned offsets are fetched through
// window{N}() (generated in blocks.ts): N+1 aligned loads, then word and half-word funnel shifts.

const BLOCK_BYTES_Q8_0: u32 = 34u;  // f16 d, 32 x int8
const BLOCK_BYTES_Q4_0: u32 = 18u;  // f16 d, 16 bytes of nibbles
const BLOCK_BYTES_Q5_0: u32 = 22u;  // f16 d, u32 qh (the 5th bits), 16 bytes of nibbles
const BLOCK_BYTES_Q4_K: u32 = 144u; // f16 d, f16 dmin, 12 bytes scales, 128 bytes nibbles (9 vec4: always aligned)
const BLOCK_BYTES_Q5_K: u32 = 176u; // f16 d, f16 dmin, 12 bytes scales, 32 bytes high bits, 128 bytes nibbles (11 vec4)
const BLOCK_BYTES_Q6_K: u32 = 210u; // 128 bytes low nibbles, 64 bytes high 2-bits, 16 x int8 scales, f16 d
const CHUNKS_PER_SUPERBLOCK: u32 = 8u; // QK_K / 32

// Words q.. q+3 of the 8-word sequence a ++ b (q in 0..3).
fn shift_words(a: vec4<u32>, b: vec4<u32>, q: u32) -> vec4<u32> {
  let s1 = vec4<u32>(a.yzw, b.x);
  let s2 = vec4<u32>(a.zw, b.xy);
  let s3 = vec4<u32>(a.w, b.xyz);
  return select(select(a, s1, q == 1u), select(s2, s3, q == 3u), q >= 2u);
}

// a ++ next shifted down by 16 bits when h.
fn shift_half(a: vec4<u32>, next: u32, h: bool) -> vec4<u32> {
  return select(a, (a >> vec4<u32>(16u)) | (vec4<u32>(a.yzw, next) << vec4<u32>(16u)), h);
}

// The 4 signed bytes of a word as numbers.
fn i8x4(w: u32) -> vec4<T> {
  let q = bitcast<i32>(w);
  return vec4<T>(vec4<i32>(extractBits(q, 0u, 8u), extractBits(q, 8u, 8u), extractBits(q, 16u, 8u), extractBits(q, 24u, 8u)));
}

// Bits [shift, shift + width) of each byte of a word as numbers (shift + width <= 8; mask = 2^width - 1).
// Converted from i32: x86 has no u32 -> f32 instruction, and llvmpipe's emulation of it is several times slower.
fn bits4(w: u32, shift: u32, mask: u32) -> vec4<T> {
  let v = bitcast<i32>(w >> shift);
  let m = i32(mask);
  return vec4<T>(vec4<i32>(v & m, (v >> 8u) & m, (v >> 16u) & m, (v >> 24u) & m));
}

// The 4 low (shift 0) or high (shift 4) nibbles of the bytes of a word.
fn nib4(w: u32, shift: u32) -> vec4<T> {
  return bits4(w, shift, 0xfu);
}

// Byte i (0..15) of a vec4 of words.
fn byte16(v: vec4<u32>, i: u32) -> u32 {
  return (v[i >> 2u] >> ((i & 3u) * 8u)) & 0xffu;
}

// Zero the lanes of a 4-value group at value offset e that lie at or past n.
fn tail4(v: vec4<f32>, e: u32, n: u32) -> vec4<f32> {
  return select(vec4<f32>(0.0), v, vec4<u32>(e) + vec4<u32>(0u, 1u, 2u, 3u) < vec4<u32>(n));
}

// ---- F32: 4 bytes a value. Values past n (a row's tail) are zeroed. ----
fn load_f32(row_byte: u32, c: u32, n: u32) -> array<vec4<T>, 8> {
  var out: array<vec4<T>, 8>;
  let w = window8(row_byte + c * 128u);
//#unroll k 8
  out[#k] = vec4<T>(tail4(bitcast<vec4<f32>>(w[#k]), 4u * #k, n));
//#endunroll
  return out;
}

// ---- F16 / BF16: 2 bytes a value. ----
fn bf16x2(w: u32) -> vec2<f32> {
  return vec2<f32>(bitcast<f32>(w << 16u), bitcast<f32>(w & 0xffff0000u));
}

fn load_f16(row_byte: u32, c: u32, n: u32) -> array<vec4<T>, 8> {
  var out: array<vec4<T>, 8>;
  let w = window4(row_byte + c * 64u);
//#unroll k 4
  out[2u * #k] = vec4<T>(tail4(vec4<f32>(unpack2x16float(w[#k].x), unpack2x16float(w[#k].y)), 8u * #k, n));
  out[2u * #k + 1u] = vec4<T>(tail4(vec4<f32>(unpack2x16float(w[#k].z), unpack2x16float(w[#k].w)), 8u * #k + 4u, n));
//#endunroll
  return out;
}

fn load_bf16(row_byte: u32, c: u32, n: u32) -> array<vec4<T>, 8> {
  var out: array<vec4<T>, 8>;
  let w = window4(row_byte + c * 64u);
//#unroll k 4
  out[2u * #k] = vec4<T>(tail4(vec4<f32>(bf16x2(w[#k].x), bf16x2(w[#k].y)), 8u * #k, n));
  out[2u * #k + 1u] = vec4<T>(tail4(vec4<f32>(bf16x2(w[#k].z), bf16x2(w[#k].w)), 8u * #k + 4u, n));
//#endunroll
  return out;
}

// ---- Q8_0: y = d * q, one block per chunk. ----
fn load_q8_0(row_byte: u32, c: u32, n: u32) -> array<vec4<T>, 8> {
  var out: array<vec4<T>, 8>;
  let w = window3(row_byte + c * BLOCK_BYTES_Q8_0); // word 0: d | q0 q1, words 1..8: the rest of q
  let d = T(unpack2x16float(w[0].x).x);
  // qs word k = bytes 2+4k .. 5+4k: the upper half of word k and the lower half of word k+1.
  let q0 = shift_half(w[0], w[1].x, true);
  let q1 = shift_half(w[1], w[2].x, true);
//#unroll k 4
  out[#k] = i8x4(q0[#k]) * d;
  out[#k + 4u] = i8x4(q1[#k]) * d;
//#endunroll
  return out;
}

// ---- Q4_0: y[j] = d * ((qs[j] & 15) - 8), y[j + 16] = d * ((qs[j] >> 4) - 8). ----
fn load_q4_0(row_byte: u32, c: u32, n: u32) -> array<vec4<T>, 8> {
  var out: array<vec4<T>, 8>;
  let w = window2(row_byte + c * BLOCK_BYTES_Q4_0);
  let d = T(unpack2x16float(w[0].x).x);
  let q = shift_half(w[0], w[1].x, true);
//#unroll k 4
  out[#k] = (nib4(q[#k], 0u) - T(8)) * d;
  out[#k + 4u] = (nib4(q[#k], 4u) - T(8)) * d;
//#endunroll
  return out;
}

// Bits 0..3 of x moved to bit 4 of bytes 0..3: Q5_0's fifth bits next to their nibbles.
fn spread4(x: u32) -> u32 {
  return ((x & 1u) << 4u) | ((x & 2u) << 11u) | ((x & 4u) << 18u) | ((x & 8u) << 25u);
}

// ---- Q5_0: y[j] = d * ((qs[j] & 15 | qh bit j << 4) - 16), y[j + 16] = d * ((qs[j] >> 4 | qh bit j+16 << 4) - 16). ----
fn load_q5_0(row_byte: u32, c: u32, n: u32) -> array<vec4<T>, 8> {
  var out: array<vec4<T>, 8>;
  let w = window2(row_byte + c * BLOCK_BYTES_Q5_0); // bytes 0..1 d, 2..5 qh, 6..21 qs
  let d = T(unpack2x16float(w[0].x).x);
  let a = shift_half(w[0], w[1].x, true); // words at bytes 2, 6, 10, 14: qh, qs 0..3, qs 4..7, qs 8..11
  let qh = a.x;
  let qs = vec4<u32>(a.y, a.z, a.w, shift_half(w[1], 0u, true).x); // qs 12..15 at bytes 18..21
//#unroll k 4
  {
    let lo = (qs[#k] & 0x0f0f0f0fu) | spread4((qh >> (4u * #k)) & 0xfu);
    let hi = ((qs[#k] >> 4u) & 0x0f0f0f0fu) | spread4((qh >> (4u * #k + 16u)) & 0xfu);
    out[#k] = (bits4(lo, 0u, 0x1fu) - T(16)) * d;
    out[#k + 4u] = (bits4(hi, 0u, 0x1fu) - T(16)) * d;
  }
//#endunroll
  return out;
}

// K-quant 6-bit scale and min of sub-block j (ggml get_scale_min_k4); s = header vec4 (scales at bytes 4..15).
fn scale_min_k4(s: vec4<u32>, j: u32) -> vec2<u32> {
  if (j < 4u) {
    return vec2<u32>(byte16(s, 4u + j) & 63u, byte16(s, 8u + j) & 63u);
  }
  let hi = byte16(s, 8u + j);
  return vec2<u32>((hi & 0xfu) | ((byte16(s, j) >> 6u) << 4u), (hi >> 4u) | ((byte16(s, 4u + j) >> 6u) << 4u));
}

// ---- Q4_K: sub-block j (32 values) = d*sc_j * nibble - dmin*m_j; sub-blocks 2i, 2i+1 share qs[32i..32i+31]. ----
fn load_q4_k(row_byte: u32, c: u32, n: u32) -> array<vec4<T>, 8> {
  var out: array<vec4<T>, 8>;
  let hb = (row_byte + (c / CHUNKS_PER_SUPERBLOCK) * BLOCK_BYTES_Q4_K) >> 4u;
  let j = c % CHUNKS_PER_SUPERBLOCK;
  let head = W[hb];
  let dm = unpack2x16float(head.x);
  let sm = scale_min_k4(head, j);
  let d1 = T(dm.x * f32(sm.x));
  let m1 = T(dm.y * f32(sm.y));
  let shift = 4u * (j % 2u);
  let qa = W[hb + 1u + 2u * (j / 2u)];
  let qb = W[hb + 2u + 2u * (j / 2u)];
//#unroll k 4
  out[#k] = d1 * nib4(qa[#k], shift) - m1;
  out[#k + 4u] = d1 * nib4(qb[#k], shift) - m1;
//#endunroll
  return out;
}

// ---- Q5_K: like Q4_K plus a fifth bit from qh[l] bit j (adds 16). ----
fn load_q5_k(row_byte: u32, c: u32, n: u32) -> array<vec4<T>, 8> {
  var out: array<vec4<T>, 8>;
  let hb = (row_byte + (c / CHUNKS_PER_SUPERBLOCK) * BLOCK_BYTES_Q5_K) >> 4u;
  let j = c % CHUNKS_PER_SUPERBLOCK;
  let head = W[hb];
  let dm = unpack2x16float(head.x);
  let sm = scale_min_k4(head, j);
  let d1 = T(dm.x * f32(sm.x));
  let m1 = T(dm.y * f32(sm.y));
  let shift = 4u * (j % 2u);
  let ha = W[hb + 1u]; // qh: 32 bytes at offset 16
  let hc = W[hb + 2u];
  let qa = W[hb + 3u + 2u * (j / 2u)]; // ql: 128 bytes at offset 48
  let qb = W[hb + 4u + 2u * (j / 2u)];
//#unroll k 4
  out[#k] = d1 * (nib4(qa[#k], shift) + T(16) * bits4(ha[#k], j, 1u)) - m1;
  out[#k + 4u] = d1 * (nib4(qb[#k], shift) + T(16) * bits4(hc[#k], j, 1u)) - m1;
//#endunroll
  return out;
}

// ---- Q6_K: y = d * sc[is] * (q6 - 32); a 128-value half h holds 4 runs of 32: low/high nibble of ql[64h + 0..31]
// and ql[64h + 32..63], with 2 high bits each from qh[32h + l]; scales step every 16 values. ----
fn load_q6_k(row_byte: u32, c: u32, n: u32) -> array<vec4<T>, 8> {
  var out: array<vec4<T>, 8>;
  let b = row_byte + (c / CHUNKS_PER_SUPERBLOCK) * BLOCK_BYTES_Q6_K;
  let j = c % CHUNKS_PER_SUPERBLOCK;
  let h = j / 4u;   // half of the block
  let r = j % 4u;   // run within the half
  let ql = window2(b + 64u * h + 32u * (r % 2u));
  let qh = window2(b + 128u + 32u * h);
  let tail = window2(b + 192u); // 16 int8 scales, then f16 d
  let d = unpack2x16float(tail[1].x).x;
  let si = 8u * h + 2u * r;
  let s0 = T(d * f32(extractBits(bitcast<i32>(byte16(tail[0], si)), 0u, 8u)));
  let s1 = T(d * f32(extractBits(bitcast<i32>(byte16(tail[0], si + 1u)), 0u, 8u)));
  let nshift = 4u * (r / 2u);
  let hshift = 2u * r;
//#unroll k 4
  out[#k] = s0 * (nib4(ql[0][#k], nshift) + T(16) * bits4(qh[0][#k], hshift, 3u) - T(32));
  out[#k + 4u] = s1 * (nib4(ql[1][#k], nshift) + T(16) * bits4(qh[1][#k], hshift, 3u) - T(32));
//#endunroll
  return out;
}
