/**
 * A small seeded PRNG (mulberry32 for uniforms, Box-Muller for normals): same seed, same numbers,
 * in Node and in the browser. Used by sampling and by the fixture generator.
 */
export interface Prng {
  /** uniform in [0, 1) */
  next(): number;
  /** standard normal */
  normal(): number;
}

export function createPrng(seed: number): Prng {
  let a = (Math.floor(seed) >>> 0) ^ 0x9e3779b9;
  let spare: number | null = null;
  const next = () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
  return {
    next,
    normal() {
      if (spare !== null) {
        const s = spare;
        spare = null;
        return s;
      }
      let u = 0;
      while (u === 0) u = next();
      const v = next();
      const r = Math.sqrt(-2 * Math.log(u));
      spare = r * Math.sin(2 * Math.PI * v);
      return r * Math.cos(2 * Math.PI * v);
    },
  };
}
