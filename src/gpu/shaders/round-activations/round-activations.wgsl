// Rounds matmul inputs in place as llama.cpp's CPU matmuls quantize them (their weight type's vec_dot_type),
// so a quantized model on the GPU computes what llama.cpp computes (the f32 values the 8-bit blocks stand for):
//   Q8_K (K-quant weights): blocks of 256; max = the value of largest magnitude (its sign kept),
//        iscale = -127 / max, d = 1 / iscale, y = d · min(127, rint(iscale · x))
//   Q8_0 (Q4_0 … Q8_0 weights): blocks of 32; d = f16(amax / 127), y = d · rint(x · 127 / amax)
// x [rows, n] at f32 offset `offset`, n a multiple of the block. One invocation per block: a block is 32 or
// 256 values and a decode step has a few dozen blocks, so no workgroup reductions.

{{PARAMS}}
{{CONSTS}}

@group(0) @binding(0) var<uniform> p: Params;
@group(0) @binding(1) var<storage, read_write> x: array<f32>;

// f32 → nearest f16 (ties to even) → f32, for the f16 scale of a Q8_0 block (finite, below f16's max)
fn round_f16(v: f32) -> f32 {
  let a = abs(v);
  if (a < 6.103515625e-5) {
    // f16 subnormals: multiples of 2^-24 (exact scaling; round() ties to even)
    return round(v * 16777216.0) / 16777216.0;
  }
  let b = bitcast<u32>(v);
  let lsb = (b >> 13u) & 1u;
  return bitcast<f32>((b + 0xFFFu + lsb) & 0xFFFFE000u);
}

@compute @workgroup_size(WG)
fn main(@builtin(workgroup_id) wid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>, @builtin(local_invocation_index) lid: u32) {
  let blk = (wid.x + wid.y * nwg.x) * WG + lid;
  if (blk >= p.blocks) {
    return;
  }
  let base = p.offset + blk * BLOCK; // rows are whole blocks, so block blk of the whole [rows, n] array
  var amax = 0.0;
  var mx = 0.0;
  for (var j = 0u; j < BLOCK; j++) {
    let v = x[base + j];
    if (abs(v) > amax) {
      amax = abs(v);
      mx = v;
    }
  }
  if (amax == 0.0) {
    return; // all zero: already exact (llama.cpp writes d = 0, q = 0)
  }
  if (Q8_K) {
    let iscale = -127.0 / mx;
    let d = 1.0 / iscale;
    for (var j = 0u; j < BLOCK; j++) {
      x[base + j] = d * min(127.0, round(iscale * x[base + j]));
    }
  } else {
    let d = round_f16(amax / 127.0);
    let id = 127.0 / amax;
    for (var j = 0u; j < BLOCK; j++) {
      x[base + j] = d * round(x[base + j] * id);
    }
  }
}
