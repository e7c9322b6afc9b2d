/**
 * Scratch buffers shared by kernels that never run at the same time: the 27 attention layers of a
 * forward graph each need the same split-K partials (~8.5 MB each on a DeepSeek-V2-Lite twin), but they
 * run one after another, so one set serves them all. `get` hands out the pool's buffer of that name when
 * it is big enough, else makes a bigger one (earlier users keep theirs); the pool owns and frees them.
 */
import { createStorage } from './buffers.ts';

export class ScratchPool {
  private readonly buffers = new Map<string, GPUBuffer[]>();

  constructor(private readonly device: GPUDevice) {}

  get(name: string, bytes: number): GPUBuffer {
    const list = this.buffers.get(name) ?? [];
    const fit = list.find((b) => b.size >= bytes);
    if (fit) return fit;
    const b = createStorage(this.device, bytes, `scratch:${name}`);
    list.push(b);
    this.buffers.set(name, list);
    return b;
  }

  /** Bytes the pool holds. */
  get bytes(): number {
    let n = 0;
    for (const list of this.buffers.values()) for (const b of list) n += b.size;
    return n;
  }

  destroy(): void {
    for (const list of this.buffers.values()) list.forEach((b) => b.destroy());
    this.buffers.clear();
  }
}
