// One round of the top-KEEP selection: each workgroup sorts a CHUNK of (key, id) pairs in workgroup
// memory (bitonic, best first: key descending, then id ascending) and writes its best KEEP.
//   FIRST true:  the chunk is work f32 [n_in] (key = f32_key(work[i]), id = i)
//   FIRST false: the chunk is src vec2<u32> [n_in], the previous round's output
// dst vec2<u32> [groups · KEEP]. Rounds repeat until one workgroup is left: its KEEP pairs are the
// exact top-KEEP of the vocabulary in sampling order (every global top-KEEP pair is in its chunk's top-KEEP).
// Padding (key 0, id 0xffffffff) sorts after every real token.

{{PARAMS}}
{{CONSTS}}

@group(0) @binding(0) var<uniform> p: Params;
@group(0) @binding(1) var<storage, read> work: array<f32>;
@group(0) @binding(2) var<storage, read> src: array<vec2<u32>>;
@group(0) @binding(3) var<storage, read_write> dst: array<vec2<u32>>;

var<workgroup> sk: array<u32, CHUNK>;
var<workgroup> si: array<u32, CHUNK>;

@compute @workgroup_size(WG)
fn main(@builtin(workgroup_id) wid: vec3<u32>, @builtin(local_invocation_index) lid: u32) {
  let base = wid.x * CHUNK;
  for (var j = lid; j < CHUNK; j += WG) {
    let g = base + j;
    var k = 0u;
    var id = 0xffffffffu;
    if (g < p.n_in) {
      if (FIRST) {
        k = f32_key(work[g]);
        id = g;
      } else {
        let e = src[g];
        k = e.x;
        id = e.y;
      }
    }
    sk[j] = k;
    si[j] = id;
  }
  workgroupBarrier();
  for (var size = 2u; size <= CHUNK; size <<= 1u) {
    for (var stride = size >> 1u; stride > 0u; stride >>= 1u) {
      for (var i = lid; i < CHUNK; i += WG) {
        let l = i ^ stride;
        if (l > i) {
          // "best first" blocks where (i & size) == 0, reversed blocks elsewhere (bitonic merge).
          let lFirst = before(sk[l], si[l], sk[i], si[i]);
          if (((i & size) == 0u) == lFirst) {
            let tk = sk[i];
            let ti = si[i];
            sk[i] = sk[l];
            si[i] = si[l];
            sk[l] = tk;
            si[l] = ti;
          }
        }
      }
      workgroupBarrier();
    }
  }
  for (var j = lid; j < KEEP; j += WG) {
    dst[wid.x * KEEP + j] = vec2<u32>(sk[j], si[j]);
  }
}
