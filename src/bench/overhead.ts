/**
 * What a pass, a submit and a readback cost with no work in them, and how many of each the engine
 * issues per decoded token: on a real GPU the bench model's decode (~30 passes per layer per token)
 * is bounded by these, not by memory, and count × cost says how much of a token's time they explain.
 */
import { timeBatch, type TimingMethod } from '../gpu/batch-timing.ts';
import { inOnePass } from '../gpu/pass-scope.ts';

export interface DispatchOverhead {
  /** µs per extra empty dispatch inside one open compute pass */
  dispatchUs: number;
  /** µs per compute pass holding one empty dispatch, many passes in one submit */
  passUs: number;
  /** how dispatchUs and passUs were measured */
  method: TimingMethod;
  /** µs per submit of one such pass, submits queued back to back (CPU clock) */
  submitUs: number;
  /** µs per submit + wait + 4-byte map readback, one at a time (CPU clock, median) */
  roundTripUs: number;
  /** how many of each the µs figures are averaged over */
  n: number;
}

/** GPU work the engine issued for one decoded token, counted by wrapping the device. */
export interface TokenCounts {
  dispatches: number;
  passes: number;
  submits: number;
  /** mapAsync calls: each waits for the GPU (a round trip) */
  maps: number;
}

const NOOP = '@compute @workgroup_size(1) fn main() {}';

export async function measureDispatchOverhead(device: GPUDevice, n: number): Promise<DispatchOverhead> {
  const pipeline = device.createComputePipeline({
    label: 'noop',
    layout: 'auto',
    compute: { module: device.createShaderModule({ code: NOOP }), entryPoint: 'main' },
  });
  const onePass = (enc: GPUCommandEncoder, dispatches: number) => {
    const p = enc.beginComputePass({ label: 'noop' });
    p.setPipeline(pipeline);
    for (let i = 0; i < dispatches; i++) p.dispatchWorkgroups(1);
    p.end();
  };
  const inPass = await timeBatch(device, (enc, reps) => onePass(enc, reps), { reps: n, trials: 3 });
  const passes = await timeBatch(
    device,
    (enc, reps) => {
      for (let i = 0; i < reps; i++) onePass(enc, 1);
    },
    { reps: n, trials: 3 },
  );
  // submits: prerecorded so only submit itself is timed, then one wait for all of them
  let submit = Infinity;
  for (let t = 0; t < 3; t++) {
    const cmds = Array.from({ length: n }, () => {
      const enc = device.createCommandEncoder();
      onePass(enc, 1);
      return enc.finish();
    });
    const t0 = performance.now();
    for (const c of cmds) device.queue.submit([c]);
    await device.queue.onSubmittedWorkDone();
    submit = Math.min(submit, (performance.now() - t0) / n);
  }
  // round trip: what a decode step pays at least once, to read its logits or sampled token back
  const src = device.createBuffer({ size: 4, usage: GPUBufferUsage.STORAGE | GPUBufferUsage.COPY_SRC });
  const dst = device.createBuffer({ size: 4, usage: GPUBufferUsage.MAP_READ | GPUBufferUsage.COPY_DST });
  const trips: number[] = [];
  try {
    for (let i = 0; i < Math.min(n, 64) + 2; i++) {
      const t0 = performance.now();
      const enc = device.createCommandEncoder();
      onePass(enc, 1);
      enc.copyBufferToBuffer(src, 0, dst, 0, 4);
      device.queue.submit([enc.finish()]);
      await dst.mapAsync(GPUMapMode.READ);
      dst.unmap();
      if (i >= 2) trips.push(performance.now() - t0);
    }
  } finally {
    src.destroy();
    dst.destroy();
  }
  trips.sort((a, b) => a - b);
  return {
    dispatchUs: inPass.seconds * 1e6,
    passUs: passes.seconds * 1e6,
    method: inPass.method === 'cpu' || passes.method === 'cpu' ? 'cpu' : 'timestamp',
    submitUs: submit * 1000,
    roundTripUs: trips[Math.floor(trips.length / 2)] * 1000,
    n,
  };
}

/**
 * Counts what `run` issues on `device` by shadowing createCommandEncoder, queue.submit and
 * GPUBuffer.prototype.mapAsync for its duration (own properties, removed afterwards; the engine's code is
 * untouched). Run it on a step that is not timed: the wrappers cost a little.
 */
export async function countGpuWork<T>(device: GPUDevice, run: (counts: TokenCounts) => Promise<T>): Promise<{ counts: TokenCounts; result: T }> {
  const counts: TokenCounts = { dispatches: 0, passes: 0, submits: 0, maps: 0 };
  const restores = [shadow(device, 'createCommandEncoder'), shadow(device.queue, 'submit'), shadow(GPUBuffer.prototype, 'mapAsync')];
  const dev = device as unknown as Record<string, unknown>;
  const queue = device.queue as unknown as Record<string, unknown>;
  const bufferProto = GPUBuffer.prototype as unknown as Record<string, unknown>;
  const origEncoder = device.createCommandEncoder;
  const origSubmit = device.queue.submit;
  const origMap = GPUBuffer.prototype.mapAsync;
  dev.createCommandEncoder = (d?: GPUCommandEncoderDescriptor) => {
    const enc = origEncoder.call(device, d);
    const begin = enc.beginComputePass;
    (enc as unknown as Record<string, unknown>).beginComputePass = (pd?: GPUComputePassDescriptor) => {
      counts.passes++;
      const pass = begin.call(enc, pd);
      const dispatch = pass.dispatchWorkgroups;
      const indirect = pass.dispatchWorkgroupsIndirect;
      (pass as unknown as Record<string, unknown>).dispatchWorkgroups = (x: number, y?: number, z?: number) => {
        counts.dispatches++;
        dispatch.call(pass, x, y, z);
      };
      (pass as unknown as Record<string, unknown>).dispatchWorkgroupsIndirect = (b: GPUBuffer, o: number) => {
        counts.dispatches++;
        indirect.call(pass, b, o);
      };
      return pass;
    };
    return enc;
  };
  queue.submit = (cmds: Iterable<GPUCommandBuffer>) => {
    counts.submits++;
    origSubmit.call(device.queue, cmds);
  };
  bufferProto.mapAsync = function (this: GPUBuffer, mode: number, offset?: number, size?: number) {
    counts.maps++;
    return origMap.call(this, mode, offset, size);
  };
  try {
    return { counts, result: await run(counts) };
  } finally {
    restores.forEach((r) => r());
  }
}

/** Remembers how `key` is found on `obj` (own property or inherited) and returns what puts it back. */
function shadow(obj: object, key: string): () => void {
  const own = Object.getOwnPropertyDescriptor(obj, key);
  return () => {
    if (own) Object.defineProperty(obj, key, own);
    else delete (obj as Record<string, unknown>)[key];
  };
}

/** Modelled overhead of one token's counts, each item priced once (a dispatch beyond the first in its pass, ...). */
export function overheadSeconds(c: TokenCounts, o: DispatchOverhead): number {
  const us =
    Math.max(0, c.dispatches - c.passes) * o.dispatchUs +
    Math.max(0, c.passes - c.submits) * o.passUs +
    Math.max(0, c.submits - c.maps) * o.submitUs +
    c.maps * o.roundTripUs;
  return us / 1e6;
}

/** Dispatches a graph's steps record, by layer (-1: embedding and output head), for the table's per-layer figure. */
export interface LayerDispatches {
  /** dispatches of layer i, i = 0 .. layers-1 */
  layers: number[];
  /** the embedding and the output head */
  outside: number;
}

/**
 * Counts the dispatches each step of `steps` records when encoded at `pos`, attributed to the step's
 * layer: every step is encoded into one shared pass of an encoder that is never submitted (encoding
 * changes nothing on the GPU). The sampler is not a graph step: the per-token count has it beside these.
 */
export async function countDispatchesByLayer(
  device: GPUDevice,
  steps: readonly { run: (enc: GPUCommandEncoder, pos: number) => void; layer: number }[],
  pos: number,
): Promise<LayerDispatches> {
  const out: LayerDispatches = { layers: [], outside: 0 };
  await countGpuWork(device, async (counts) => {
    const enc = device.createCommandEncoder({ label: 'bench: count dispatches by layer' });
    inOnePass(enc, 'bench: count', () => {
      for (const s of steps) {
        const before = counts.dispatches;
        s.run(enc, pos);
        const n = counts.dispatches - before;
        if (s.layer < 0) out.outside += n;
        else out.layers[s.layer] = (out.layers[s.layer] ?? 0) + n;
      }
    });
    enc.finish();
  });
  return out;
}
