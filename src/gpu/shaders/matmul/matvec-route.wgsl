// ROUTE (gather): the MoE router of a decode step computed by the invocations that need its choice (the
// experts' gathered gate/up and their down + combine), from the router matvec's logits, so no router
// dispatch runs between them. The math of moe-router.wgsl (reference: moe-router.ref.ts), serially per
// invocation: X is small (8–256) next to the K-long rows each invocation then reads.
// R: [T, X] logits, then the [X] selection bias at R[p.r_bias] (zeros when the model has none).
// route(t) leaves token t's experts, best first (ties to the lower index), in r_expert and their weights
// in r_weight.

const RX: u32 = {{RX}}u; // experts X
const RK: u32 = {{RK}}u; // experts used k
const R_NEG_INF: f32 = -3.0e38; // taken: never chosen again
const R_MASKED: f32 = -2.0e38; // in a dropped group: chosen only after every eligible expert

@group(0) @binding(11) var<storage, read> R: array<f32>;

var<private> r_expert: array<u32, RK>;
var<private> r_weight: array<f32, RK>;
var<private> r_token: u32 = 0xffffffffu; // the token r_expert and r_weight belong to

fn route(t: u32) {
  if (t == r_token) {
    return;
  }
  r_token = t;
  let base = t * RX;
  // gating: softmax (1) needs the max and the sum of exps; sigmoid (2), sqrt(softplus) (4); softmax_weight (3) keeps logits
  var mx = R_NEG_INF;
  for (var e = 0u; e < RX; e++) {
    mx = max(mx, R[base + e]);
  }
  var sum_exp = 0.0;
  for (var e = 0u; e < RX; e++) {
    sum_exp += exp(R[base + e] - mx);
  }
  var prob: array<f32, RX>; // [X] unbiased probabilities: the weights
  var sel: array<f32, RX>; // [X] selection scores: probs + bias
  for (var e = 0u; e < RX; e++) {
    let logit = R[base + e];
    var pr = logit;
    if (p.gating == 1u) {
      pr = exp(logit - mx) / sum_exp;
    } else if (p.gating == 2u) {
      pr = 1.0 / (1.0 + exp(-logit));
    } else if (p.gating == 4u) {
      pr = sqrt(log(1.0 + exp(logit)));
    }
    prob[e] = pr;
    sel[e] = pr + R[p.r_bias + e];
  }
  // expert groups: a group's score is the sum of its top two; all but the best n_group_used are masked
  if (p.n_group > 1u) {
    let per = RX / p.n_group;
    var gscore: array<f32, RX>;
    for (var g = 0u; g < p.n_group; g++) {
      var b1 = R_NEG_INF;
      var b2 = R_NEG_INF;
      for (var e = g * per; e < (g + 1u) * per; e++) {
        let v = sel[e];
        if (v > b1) {
          b2 = b1;
          b1 = v;
        } else if (v > b2) {
          b2 = v;
        }
      }
      gscore[g] = b1 + select(0.0, b2, per > 1u);
    }
    var keep: array<bool, RX>;
    for (var r = 0u; r < p.n_group_used; r++) {
      var best = 0u;
      for (var g = 1u; g < p.n_group; g++) {
        if (gscore[g] > gscore[best]) {
          best = g;
        }
      }
      keep[best] = true;
      gscore[best] = R_NEG_INF;
    }
    for (var e = 0u; e < RX; e++) {
      if (!keep[e / per]) {
        sel[e] = R_MASKED;
      }
    }
  }
  // top-k by selection score, k rounds of argmax (strict >: ties keep the lower index)
  var wsum = 0.0;
  var chosen_max = R_NEG_INF;
  for (var r = 0u; r < RK; r++) {
    var best = 0u;
    for (var e = 1u; e < RX; e++) {
      if (sel[e] > sel[best]) {
        best = e;
      }
    }
    sel[best] = R_NEG_INF;
    r_expert[r] = best;
    r_weight[r] = prob[best];
    wsum += prob[best];
    chosen_max = max(chosen_max, R[base + best]);
  }
  // softmax_weight: softmax over the chosen logits; then the optional normalisation and the scale
  if (p.gating == 3u) {
    wsum = 0.0;
    for (var r = 0u; r < RK; r++) {
      r_weight[r] = exp(R[base + r_expert[r]] - chosen_max);
      wsum += r_weight[r];
    }
    for (var r = 0u; r < RK; r++) {
      r_weight[r] = r_weight[r] / wsum;
    }
    wsum = 1.0;
  }
  for (var r = 0u; r < RK; r++) {
    var w = r_weight[r];
    if (p.normalize != 0u) {
      w = w / max(wsum, 6.103515625e-5);
    }
    r_weight[r] = w * p.scale;
  }
}
