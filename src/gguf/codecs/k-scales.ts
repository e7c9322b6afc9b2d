/**
 * The 12-byte scale/min packing of Q4_K and Q5_K: eight 6-bit scales and eight 6-bit mins.
 * j < 4: scale = s[j] & 63, min = s[j+4] & 63.
 * j ≥ 4: scale = (s[j+4] & 0xF) | (s[j-4] >> 6) << 4, min = (s[j+4] >> 4) | (s[j] >> 6) << 4.
 * (ggml's get_scale_min_k4.) `o` is where the 12 bytes start.
 */
export function getScaleMinK4(j: number, s: Uint8Array, o: number): [number, number] {
  if (j < 4) return [s[o + j] & 63, s[o + j + 4] & 63];
  return [(s[o + j + 4] & 0xf) | ((s[o + j - 4] >> 6) << 4), (s[o + j + 4] >> 4) | ((s[o + j] >> 6) << 4)];
}

/** Packs 6-bit scale `ls` and min `lm` of sub-block j (bytes must start zeroed). */
export function putScaleMinK4(j: number, ls: number, lm: number, s: Uint8Array, o: number): void {
  if (j < 4) {
    s[o + j] = ls;
    s[o + j + 4] = lm;
  } else {
    s[o + j + 4] = (ls & 0xf) | ((lm & 0xf) << 4);
    s[o + j - 4] |= (ls >> 4) << 6;
    s[o + j] |= (lm >> 4) << 6;
  }
}
