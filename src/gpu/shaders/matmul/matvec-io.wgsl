// What both decode matvec variants (matvec.wgsl, matvec-rows.wgsl) read and write, prepended to each by
// matvec.ts: the params, the bindings (weights W in GGUF blocks, x, y, the gather's expert ids, PAIR's second
// weight W2), x_chunk (32 values of x as 8 vec4, zero past a float row's tail) and the SwiGLU gate.

{{PARAMS}}

const TAIL: bool = {{TAIL}}; // a float row whose length is not a multiple of 32

@group(0) @binding(0) var<uniform> p: Params;
@group(0) @binding(1) var<storage, read> W: array<vec4<u32>>;
//#if X4
@group(0) @binding(2) var<storage, read> X: array<vec4<f32>>; // K % 4 == 0: 16-byte loads
//#else
@group(0) @binding(2) var<storage, read> X: array<f32>;
//#endif
@group(0) @binding(3) var<storage, read_write> Y: array<f32>;
//#if GATHER
@group(0) @binding(4) var<storage, read> ids: array<u32>;
//#endif
//#if PAIR
//#if GATHER
@group(0) @binding(5) var<storage, read> W2: array<vec4<u32>>; // the second weight follows ids
//#else
@group(0) @binding(4) var<storage, read> W2: array<vec4<u32>>;
//#endif
//#endif

fn x_chunk(base: u32, n: u32) -> array<vec4<T>, 8> {
  var xv: array<vec4<T>, 8>;
//#unroll k 8
//#if X4
  xv[#k] = vec4<T>(X[(base >> 2u) + #k]);
//#else
  xv[#k] = vec4<T>(X[base + 4u * #k], X[base + 4u * #k + 1u], X[base + 4u * #k + 2u], X[base + 4u * #k + 3u]);
//#endif
  if (TAIL) {
    xv[#k] = select(vec4<T>(0.0), xv[#k], vec4<u32>(4u * #k) + vec4<u32>(0u, 1u, 2u, 3u) < vec4<u32>(n));
  }
//#endunroll
  return xv;
}

// As swiglu.wgsl: exp(-g) overflows to +inf for g < -88; the clamp keeps it finite.
fn silu(g: f32) -> f32 {
  return g / (1.0 + exp(min(-g, 80.0)));
}
