// Shared by the sampling kernels (appended to each): the order-preserving key of an f32 and the
// counter-based PRNG. Mirrored bit for bit by sampling.ref.ts (f32Key, pcgHash, sampleUniform).

// Bigger float, bigger key; candidates sort by key descending, then id ascending.
fn f32_key(v: f32) -> u32 {
  let b = bitcast<u32>(v);
  return select(b | 0x80000000u, ~b, (b & 0x80000000u) != 0u);
}

// a before b in sampling order (key descending, ties to the lower id).
fn before(ak: u32, ai: u32, bk: u32, bi: u32) -> bool {
  return ak > bk || (ak == bk && ai < bi);
}

// PCG hash (Jarzynski & Olano 2020).
fn pcg_hash(v: u32) -> u32 {
  let s = v * 747796405u + 2891336453u;
  let w = ((s >> ((s >> 28u) + 4u)) ^ s) * 277803737u;
  return (w >> 22u) ^ w;
}

// The draw for (seed, step) in [0, 1): 24 bits, exact in f32.
fn sample_uniform(seed: u32, step: u32) -> f32 {
  let h = pcg_hash(pcg_hash(seed ^ 0x9e3779b9u) ^ step);
  return f32(pcg_hash(h) >> 8u) * (1.0 / 16777216.0);
}

// NaN or ±Inf: the exponent bits all set.
fn non_finite(v: f32) -> bool {
  return (bitcast<u32>(v) & 0x7f800000u) == 0x7f800000u;
}
