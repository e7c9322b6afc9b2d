// Block loaders for every GGUF weight type the kernels read in place, shared by matvec, matmul and
// embedding. Each decodes one CHUNK of 32 consecutive values of a row into 8 vec4 (value order = row
// order), following ggml's dequantize_row_* formulas.
//
// The including kernel declares `W: array<u32>` (the weight bytes, row-major blocks) and `alias T`
// (f32, or f16 for the f16-arithmetic variant). blocks.ts keeps only the loader a pipeline needs and
// names it `load_chunk(row_byte, c, n)`:
//   row_byte — byte offset of the row inside W (any even offset: Q8_0/Q4_0/Q6_K/F16 rows need not be 4-aligned)
//   c        — chunk index in the row (values 32c .. 32c+31)
//   n        — values of this chunk inside the row (32 except a float row's tail; quant types ignore it)

const BLOCK_BYTES_Q8_0: u32 = 34u;  // f16 d, 32 x int8
const BLOCK_BYTES_Q4_0: u32 = 18u;  // f16 d, 16 bytes of nibbles
const BLOCK_BYTES_Q4_K: u32 = 144u; // f16 d, f16 dmin, 12 bytes scales, 128 bytes nibbles
const BLOCK_BYTES_Q5_K: u32 = 176u; // f16 d, f16 dmin, 12 bytes scales, 32 bytes high bits, 128 bytes nibbles
const BLOCK_BYTES_Q6_K: u32 = 210u; // 128 bytes low nibbles, 64 bytes high 2-bits, 16 x int8 scales, f16 d
const CHUNKS_PER_SUPERBLOCK: u32 = 8u; // QK_K / 32

// 4 bytes starting at any byte offset b (little endian).
fn w_u32(b: u32) -> u32 {
  let i = b >> 2u;
  let s = (b & 3u) * 8u;
  let lo = W[i];
  // Shift counts are taken mod 32, so the s == 0 case must not use the combined value.
  return select((lo >> s) | (W[i + 1u] << (32u - s)), lo, s == 0u);
}

// The 16-bit value at an even byte offset.
fn w_u16(b: u32) -> u32 {
  return (W[b >> 2u] >> ((b & 2u) * 8u)) & 0xffffu;
}

fn w_byte(b: u32) -> u32 {
  return (W[b >> 2u] >> ((b & 3u) * 8u)) & 0xffu;
}

fn w_f16(b: u32) -> f32 {
  return unpack2x16float(w_u16(b)).x;
}

// The 4 signed bytes of a word as numbers.
fn i8x4(w: u32) -> vec4<T> {
  let q = bitcast<i32>(w);
  return vec4<T>(vec4<i32>(extractBits(q, 0u, 8u), extractBits(q, 8u, 8u), extractBits(q, 16u, 8u), extractBits(q, 24u, 8u)));
}

// Bits [shift, shift + width) of each byte of a word as numbers (shift + width <= 8; mask = 2^width - 1).
fn bits4(w: u32, shift: u32, mask: u32) -> vec4<T> {
  let v = w >> shift;
  return vec4<T>(vec4<u32>(v & mask, (v >> 8u) & mask, (v >> 16u) & mask, (v >> 24u) & mask));
}

// The 4 low (shift 0) or high (shift 4) nibbles of the bytes of a word.
fn nib4(w: u32, shift: u32) -> vec4<T> {
  return bits4(w, shift, 0xfu);
}

// ---- F32: 4 bytes a value (rows are 4-aligned). ----
fn load_f32(row_byte: u32, c: u32, n: u32) -> array<vec4<T>, 8> {
  var out: array<vec4<T>, 8>;
  let base = (row_byte >> 2u) + c * 32u;
  for (var k = 0u; k < 8u; k++) {
    let e = 4u * k;
    var v = vec4<f32>(0.0);
    if (e + 3u < n) {
      v = vec4<f32>(bitcast<f32>(W[base + e]), bitcast<f32>(W[base + e + 1u]), bitcast<f32>(W[base + e + 2u]), bitcast<f32>(W[base + e + 3u]));
    } else {
      for (var i = 0u; i < 4u; i++) {
        if (e + i < n) { v[i] = bitcast<f32>(W[base + e + i]); }
      }
    }
    out[k] = vec4<T>(v);
  }
  return out;
}

// ---- F16 / BF16: 2 bytes a value (rows start at even offsets). ----
fn bf16x2(w: u32) -> vec2<f32> {
  return vec2<f32>(bitcast<f32>(w << 16u), bitcast<f32>(w & 0xffff0000u));
}

fn load_f16(row_byte: u32, c: u32, n: u32) -> array<vec4<T>, 8> {
  var out: array<vec4<T>, 8>;
  let base = row_byte + c * 64u;
  for (var k = 0u; k < 8u; k++) {
    let e = 4u * k;
    var v = vec4<f32>(unpack2x16float(w_u32(base + 2u * e)), unpack2x16float(w_u32(base + 2u * e + 4u)));
    if (e + 3u >= n) {
      v = select(vec4<f32>(0.0), v, vec4<u32>(e, e + 1u, e + 2u, e + 3u) < vec4<u32>(n));
    }
    out[k] = vec4<T>(v);
  }
  return out;
}

fn load_bf16(row_byte: u32, c: u32, n: u32) -> array<vec4<T>, 8> {
  var out: array<vec4<T>, 8>;
  let base = row_byte + c * 64u;
  for (var k = 0u; k < 8u; k++) {
    let e = 4u * k;
    var v = vec4<f32>(bf16x2(w_u32(base + 2u * e)), bf16x2(w_u32(base + 2u * e + 4u)));
    if (e + 3u >= n) {
      v = select(vec4<f32>(0.0), v, vec4<u32>(e, e + 1u, e + 2u, e + 3u) < vec4<u32>(n));
    }
    out[k] = vec4<T>(v);
  }
  return out;
}

// ---- Q8_0: y = d * q, one block per chunk. ----
fn load_q8_0(row_byte: u32, c: u32, n: u32) -> array<vec4<T>, 8> {
  var out: array<vec4<T>, 8>;
  let b = row_byte + c * BLOCK_BYTES_Q8_0;
  let d = T(w_f16(b));
  for (var k = 0u; k < 8u; k++) {
    out[k] = i8x4(w_u32(b + 2u + 4u * k)) * d;
  }
  return out;
}

// ---- Q4_0: y[j] = d * ((qs[j] & 15) - 8), y[j + 16] = d * ((qs[j] >> 4) - 8). ----
fn load_q4_0(row_byte: u32, c: u32, n: u32) -> array<vec4<T>, 8> {
  var out: array<vec4<T>, 8>;
  let b = row_byte + c * BLOCK_BYTES_Q4_0;
  let d = T(w_f16(b));
  for (var k = 0u; k < 4u; k++) {
    let q = w_u32(b + 2u + 4u * k);
    out[k] = (nib4(q, 0u) - T(8)) * d;
    out[k + 4u] = (nib4(q, 4u) - T(8)) * d;
  }
  return out;
}

// K-quant 6-bit scale and min of sub-block j (ggml get_scale_min_k4); `s` = scales bytes at offset s_byte.
fn scale_min_k4(s_byte: u32, j: u32) -> vec2<u32> {
  if (j < 4u) {
    return vec2<u32>(w_byte(s_byte + j) & 63u, w_byte(s_byte + j + 4u) & 63u);
  }
  let hi = w_byte(s_byte + j + 4u);
  return vec2<u32>((hi & 0xfu) | ((w_byte(s_byte + j - 4u) >> 6u) << 4u), (hi >> 4u) | ((w_byte(s_byte + j) >> 6u) << 4u));
}

// ---- Q4_K: sub-block j (32 values) = d*sc_j * nibble - dmin*m_j; sub-blocks 2i, 2i+1 share qs[32i..32i+31]. ----
fn load_q4_k(row_byte: u32, c: u32, n: u32) -> array<vec4<T>, 8> {
  var out: array<vec4<T>, 8>;
  let b = row_byte + (c / CHUNKS_PER_SUPERBLOCK) * BLOCK_BYTES_Q4_K;
  let j = c % CHUNKS_PER_SUPERBLOCK;
  let dm = unpack2x16float(W[b >> 2u]); // blocks are 4-aligned
  let sm = scale_min_k4(b + 4u, j);
  let d1 = T(dm.x * f32(sm.x));
  let m1 = T(dm.y * f32(sm.y));
  let qs = (b >> 2u) + 4u + 8u * (j / 2u);
  let shift = 4u * (j % 2u);
  for (var k = 0u; k < 8u; k++) {
    out[k] = d1 * nib4(W[qs + k], shift) - m1;
  }
  return out;
}

// ---- Q5_K: like Q4_K plus a fifth bit from qh[l] bit j (adds 16). ----
fn load_q5_k(row_byte: u32, c: u32, n: u32) -> array<vec4<T>, 8> {
  var out: array<vec4<T>, 8>;
  let b = row_byte + (c / CHUNKS_PER_SUPERBLOCK) * BLOCK_BYTES_Q5_K;
  let j = c % CHUNKS_PER_SUPERBLOCK;
  let dm = unpack2x16float(W[b >> 2u]);
  let sm = scale_min_k4(b + 4u, j);
  let d1 = T(dm.x * f32(sm.x));
  let m1 = T(dm.y * f32(sm.y));
  let qh = (b >> 2u) + 4u;           // 32 bytes at offset 16
  let ql = (b >> 2u) + 12u + 8u * (j / 2u); // 128 bytes at offset 48
  let shift = 4u * (j % 2u);
  for (var k = 0u; k < 8u; k++) {
    out[k] = d1 * (nib4(W[ql + k], shift) + T(16) * bits4(W[qh + k], j, 1u)) - m1;
  }
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
  let ql = b + 64u * h + 32u * (r % 2u);
  let nshift = 4u * (r / 2u);
  let qh = b + 128u + 32u * h;
  let hshift = 2u * r;
  let d = w_f16(b + 208u);
  let sc = b + 192u + 8u * h + 2u * r;
  let s0 = T(d * f32(extractBits(bitcast<i32>(w_byte(sc)), 0u, 8u)));
  let s1 = T(d * f32(extractBits(bitcast<i32>(w_byte(sc + 1u)), 0u, 8u)));
  for (var k = 0u; k < 8u; k++) {
    let lo = nib4(w_u32(ql + 4u * k), nshift);
    let hi = bits4(w_u32(qh + 4u * k), hshift, 3u);
    let q = lo + T(16) * hi - T(32);
    out[k] = select(s1, s0, k < 4u) * q;
  }
  return out;
}
