// MLA's and the DSA indexer's cache appends in one dispatch (they read the same projections' outputs and
// write different caches): workgroups 0 .. mla_groups-1 run mla-append.wgsl's mla_append, the rest
// indexer-append.wgsl's indexer_append. p holds MLA_APPEND_PARAMS' fields, then mla_groups and the
// indexer's fields prefixed ix_ (its rows and pos0 are MLA's); the indexer's bindings follow MLA's.

@compute @workgroup_size(WG)
fn main(@builtin(workgroup_id) wid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>, @builtin(local_invocation_index) lid: u32) {
  let g = wid.x + wid.y * nwg.x; // uniform within the workgroup: each workgroup runs one of the two
  if (g < p.mla_groups) {
    mla_append(g, lid);
  } else {
    indexer_append(g - p.mla_groups, lid, {{IX_ARGS}});
  }
}
