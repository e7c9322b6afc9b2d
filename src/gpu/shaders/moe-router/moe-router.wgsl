// MoE router, one workgroup per token (see moe-router.ref.ts for the math).
// logits: [T, X] f32; bias: [X] f32 (zeros when the model has none); X <= 256 experts.
// Out: probs [T, X] (for traces), experts [T, K] u32, weights [T, K] f32.
// Selection is K rounds of an argmax reduction over (value, index) pairs: exact, ties to the lower index.

{{PARAMS}}

const MAXX: u32 = 256u;
const NEG_INF: f32 = -3.0e38;  // taken, or a padding lane: never chosen again
const MASKED: f32 = -2.0e38;        // in a dropped group: chosen only after every eligible expert

@group(0) @binding(0) var<uniform> p: Params;
@group(0) @binding(1) var<storage, read> logits: array<f32>;
@group(0) @binding(2) var<storage, read> bias: array<f32>;
@group(0) @binding(3) var<storage, read_write> probs: array<f32>;
@group(0) @binding(4) var<storage, read_write> experts: array<u32>;
@group(0) @binding(5) var<storage, read_write> weights: array<f32>;

var<workgroup> sel: array<f32, MAXX>;     // selection score per expert, -inf once taken or masked
var<workgroup> redV: array<f32, MAXX>;
var<workgroup> redI: array<u32, MAXX>;
var<workgroup> gscore: array<f32, MAXX>;   // group scores
var<workgroup> maxLogit: f32;
var<workgroup> sumExp: f32;

// Argmax of redV/redI over the first MAXX slots; result in slot 0. Ties keep the lower index.
fn argmax_reduce(lid: u32) {
  for (var stride = MAXX / 2u; stride > 0u; stride /= 2u) {
    if (lid < stride) {
      let a = redV[lid]; let b = redV[lid + stride];
      let ia = redI[lid]; let ib = redI[lid + stride];
      if (b > a || (b == a && ib < ia)) { redV[lid] = b; redI[lid] = ib; }
    }
    workgroupBarrier();
  }
}

@compute @workgroup_size(256)
fn main(@builtin(workgroup_id) wid: vec3<u32>, @builtin(local_invocation_index) lid: u32) {
  let t = wid.x;
  let X = p.n_expert;
  let base = t * X;
  let inRange = lid < X;
  let logit = select(NEG_INF, logits[base + min(lid, X - 1u)], inRange);

  // softmax needs the max and the sum of exps over the experts.
  redV[lid] = logit; redI[lid] = lid;
  workgroupBarrier();
  argmax_reduce(lid);
  if (lid == 0u) { maxLogit = redV[0]; }
  workgroupBarrier();
  let ex = select(0.0, exp(logit - maxLogit), inRange);
  redV[lid] = ex;
  workgroupBarrier();
  for (var stride = MAXX / 2u; stride > 0u; stride /= 2u) {
    if (lid < stride) { redV[lid] += redV[lid + stride]; }
    workgroupBarrier();
  }
  if (lid == 0u) { sumExp = redV[0]; }
  workgroupBarrier();

  var prob = logit;                                     // gating 3: softmax_weight keeps raw logits
  if (p.gating == 1u) { prob = ex / sumExp; }            // softmax
  else if (p.gating == 2u) { prob = 1.0 / (1.0 + exp(-logit)); } // sigmoid
  else if (p.gating == 4u) { prob = sqrt(log(1.0 + exp(logit))); } // sqrt(softplus)
  if (inRange) { probs[base + lid] = prob; }
  sel[lid] = select(NEG_INF, prob + bias[min(lid, X - 1u)], inRange);
  workgroupBarrier();

  // Expert groups: score = sum of the group's top-2; mask all but the best `n_group_used` groups.
  if (p.n_group > 1u) {
    let per = X / p.n_group;
    if (lid < p.n_group) {
      var b1 = NEG_INF; var b2 = NEG_INF;
      for (var e = lid * per; e < (lid + 1u) * per; e++) {
        let v = sel[e];
        if (v > b1) { b2 = b1; b1 = v; } else if (v > b2) { b2 = v; }
      }
      gscore[lid] = b1 + select(0.0, b2, per > 1u);
    }
    workgroupBarrier();
    var keep = false;
    for (var r = 0u; r < p.n_group_used; r++) {
      redV[lid] = select(NEG_INF, gscore[min(lid, p.n_group - 1u)], lid < p.n_group);
      redI[lid] = lid;
      workgroupBarrier();
      argmax_reduce(lid);
      let g = redI[0];
      workgroupBarrier();
      if (lid == 0u) { gscore[g] = NEG_INF; } // taken
      if (inRange && lid / per == g) { keep = true; }
      workgroupBarrier();
    }
    if (inRange && !keep) { sel[lid] = MASKED; }
    workgroupBarrier();
  }

  // Top-k experts by selection score, then their weights from the unbiased probabilities.
  var wsum = 0.0;
  var myWeight = 0.0;
  var mySlot = 0xffffffffu;
  var chosenLogitMax = NEG_INF;
  for (var r = 0u; r < p.k; r++) {
    redV[lid] = sel[lid]; redI[lid] = lid;
    workgroupBarrier();
    argmax_reduce(lid);
    let e = redI[0];
    workgroupBarrier();
    if (lid == e) { sel[lid] = NEG_INF; mySlot = r; myWeight = prob; }
    if (lid == 0u) { experts[t * p.k + r] = e; }
    workgroupBarrier();
  }
  // Sum of chosen weights (softmax_weight: softmax over the chosen logits).
  let chosen = mySlot != 0xffffffffu;
  redV[lid] = select(NEG_INF, logit, chosen); redI[lid] = lid;
  workgroupBarrier();
  argmax_reduce(lid);
  chosenLogitMax = redV[0];
  workgroupBarrier();
  if (p.gating == 3u) { myWeight = select(0.0, exp(logit - chosenLogitMax), chosen); }
  redV[lid] = select(0.0, myWeight, chosen);
  workgroupBarrier();
  for (var stride = MAXX / 2u; stride > 0u; stride /= 2u) {
    if (lid < stride) { redV[lid] += redV[lid + stride]; }
    workgroupBarrier();
  }
  wsum = redV[0];
  if (chosen) {
    var w = myWeight;
    if (p.gating == 3u) { w = w / wsum; wsum = 1.0; }
    if (p.normalize != 0u) { w = w / max(wsum, 6.103515625e-5); }
    weights[t * p.k + mySlot] = w * p.scale;
  }
}
