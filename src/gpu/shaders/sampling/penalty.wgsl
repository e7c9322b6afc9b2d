// Repetition penalty in place on the sampler's copy of the logits, work f32 [V]:
// for each DISTINCT token t among recent[0..n_recent): work[t] = work[t] > 0 ? work[t] / penalty : work[t] * penalty.
// A token repeated in the window is penalised once (the first occurrence's thread does it).

{{PARAMS}}
{{CONSTS}}

@group(0) @binding(0) var<uniform> p: Params;
@group(0) @binding(1) var<storage, read> recent: array<u32>;
@group(0) @binding(2) var<storage, read_write> work: array<f32>;

@compute @workgroup_size(WG)
fn main(@builtin(local_invocation_index) lid: u32) {
  for (var j = lid; j < p.n_recent; j += WG) {
    let t = recent[j];
    if (t >= p.vocab) {
      continue;
    }
    var first = true;
    for (var i = 0u; i < j; i++) {
      if (recent[i] == t) {
        first = false;
        break;
      }
    }
    if (first) {
      let v = work[t];
      work[t] = select(v * p.penalty, v / p.penalty, v > 0.0);
    }
  }
}
