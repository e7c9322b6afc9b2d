/**
 * The key tuning results are cached under: what the adapter says of itself (vendor, architecture,
 * device, description: lavapipe's description carries its Mesa and LLVM versions) plus a driver string
 * the caller knows (Node: the Dawn package and the software ICD; the page: the browser's version), and
 * a version of the kernels, so a new driver, browser or kernel set tunes again.
 */
export interface AdapterIdentity {
  vendor: string;
  architecture: string;
  device: string;
  description: string;
}

export function adapterKey(info: AdapterIdentity, driver = '', kernels = ''): string {
  return [info.vendor, info.architecture, info.device, info.description, driver, kernels].map((s) => s.replace(/\|/g, '/')).join('|');
}

/** A short stable hash (FNV-1a, 32 bits, hex) of kernel sources: the cache key changes when a kernel does. */
export function sourceHash(...texts: string[]): string {
  let h = 0x811c9dc5;
  for (const t of texts) {
    for (let i = 0; i < t.length; i++) {
      h ^= t.charCodeAt(i);
      h = Math.imul(h, 0x01000193) >>> 0;
    }
  }
  return h.toString(16).padStart(8, '0');
}
