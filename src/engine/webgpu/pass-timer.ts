/**
 * Per-layer timing of one forward pass, for the Speed view. The graph's steps are tagged (layer, part);
 * consecutive steps with the same tag form a segment, and each segment is timed by one of:
 *   'timestamp-query'  (adapter feature): an empty compute pass that writes a GPU timestamp at every
 *                      segment boundary, all in one submit; durations are differences of neighbours.
 *   'cpu-submit-wait'  (fallback): each segment in its own submit, waited for with onSubmittedWorkDone,
 *                      on the CPU clock. Includes submit and wake-up latency (~0.1-1 ms per segment), so
 *                      compare segments within one run, not with timestamp figures.
 * Both run the same steps as ForwardGraph.encode; only the method of measuring differs, and the result
 * says which. Everything is allocated on the first run and reused.
 */
import type { GpuForwardGraph, StepPart } from './graph-builder.ts';
import type { LayerTiming, TimingMethod } from '../../api/protocol.ts';

export interface PassTiming {
  method: TimingMethod;
  /** One entry per layer, in order. */
  layers: LayerTiming[];
  /** Embedding lookup and output head (norm + logits matvec). */
  embedMs: number;
  headMs: number;
  totalMs: number;
}

interface Segment {
  layer: number;
  part: StepPart;
  first: number; // first step index
  end: number; // one past the last
}

export class PassTimer {
  private readonly segments: Segment[] = [];
  private ts: { querySet: GPUQuerySet; resolve: GPUBuffer; staging: GPUBuffer } | undefined;

  constructor(
    private readonly device: GPUDevice,
    private readonly graph: GpuForwardGraph,
  ) {
    graph.steps.forEach((s, i) => {
      const last = this.segments.at(-1);
      if (last && last.layer === s.layer && last.part === s.part) last.end = i + 1;
      else this.segments.push({ layer: s.layer, part: s.part, first: i, end: i + 1 });
    });
  }

  /** Runs the pass at `pos` (ids already written) and times each segment. */
  async run(pos: number, method: TimingMethod): Promise<PassTiming> {
    const ms = method === 'timestamp-query' ? await this.runTimestamps(pos) : await this.runCpu(pos);
    return this.summarize(ms, method);
  }

  private async runTimestamps(pos: number): Promise<number[]> {
    const { device, segments } = this;
    if (!device.features.has('timestamp-query')) throw new Error('timestamp-query is not enabled on this device');
    const n = segments.length + 1; // one timestamp before each segment and one after the last
    this.ts ??= {
      querySet: device.createQuerySet({ label: 'pass-timer', type: 'timestamp', count: n }),
      resolve: device.createBuffer({ label: 'pass-timer:resolve', size: n * 8, usage: GPUBufferUsage.QUERY_RESOLVE | GPUBufferUsage.COPY_SRC }),
      staging: device.createBuffer({ label: 'pass-timer:staging', size: n * 8, usage: GPUBufferUsage.COPY_DST | GPUBufferUsage.MAP_READ }),
    };
    const { querySet, resolve, staging } = this.ts;
    const mark = (enc: GPUCommandEncoder, i: number) =>
      enc.beginComputePass({ label: `mark ${i}`, timestampWrites: { querySet, beginningOfPassWriteIndex: i } }).end();
    const enc = device.createCommandEncoder({ label: `timed forward pos=${pos}` });
    segments.forEach((s, i) => {
      mark(enc, i);
      for (let j = s.first; j < s.end; j++) this.graph.steps[j].run(enc, pos);
    });
    mark(enc, segments.length);
    enc.resolveQuerySet(querySet, 0, n, resolve, 0);
    enc.copyBufferToBuffer(resolve, 0, staging, 0, n * 8);
    device.queue.submit([enc.finish()]);
    await staging.mapAsync(GPUMapMode.READ);
    const t = new BigUint64Array(staging.getMappedRange().slice(0));
    staging.unmap();
    // Nanoseconds → ms. A boundary that reads earlier than its predecessor (timestamps are only
    // ordered per pass on some drivers) counts as 0 rather than a negative time.
    return segments.map((_, i) => Math.max(0, Number(t[i + 1] - t[i]) / 1e6));
  }

  private async runCpu(pos: number): Promise<number[]> {
    const { device, segments } = this;
    await device.queue.onSubmittedWorkDone();
    const out: number[] = [];
    for (const s of segments) {
      const t0 = performance.now();
      const enc = device.createCommandEncoder({ label: `timed segment ${s.layer}:${s.part}` });
      for (let j = s.first; j < s.end; j++) this.graph.steps[j].run(enc, pos);
      device.queue.submit([enc.finish()]);
      await device.queue.onSubmittedWorkDone();
      out.push(performance.now() - t0);
    }
    return out;
  }

  private summarize(ms: number[], method: TimingMethod): PassTiming {
    const layers: LayerTiming[] = [];
    let embedMs = 0;
    let headMs = 0;
    this.segments.forEach((s, i) => {
      if (s.layer < 0) {
        if (s.part === 'embed') embedMs += ms[i];
        else headMs += ms[i];
        return;
      }
      const l = (layers[s.layer] ??= { layer: s.layer, ms: 0, attentionMs: 0, indexerMs: 0, ffnMs: 0 });
      l.ms += ms[i];
      if (s.part === 'attention') l.attentionMs += ms[i];
      else if (s.part === 'indexer') l.indexerMs += ms[i];
      else if (s.part === 'ffn') l.ffnMs += ms[i];
    });
    const totalMs = embedMs + headMs + layers.reduce((a, l) => a + l.ms, 0);
    return { method, layers, embedMs, headMs, totalMs };
  }

  destroy(): void {
    this.ts?.querySet.destroy();
    this.ts?.resolve.destroy();
    this.ts?.staging.destroy();
  }
}
