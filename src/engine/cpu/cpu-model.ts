/**
 * The CPU twin of WebGpuModel: the reference forward (src/model/reference/forward.ts) behind the same
 * session surface ModelRuntime drives (feed, feed-and-sample), with sampling by the GPU sampler's CPU
 * twin (sampleRef), so one seed draws the same tokens on both backends. Weights are dequantized to f32
 * (4 bytes per parameter): meant for small models such as the bundled one.
 */
import type { GgufFile } from '../../gguf/reader.ts';
import { assertFiniteValues } from '../../gguf/codecs/finite.ts';
import { readModelConfig, type ModelConfig } from '../../model/config.ts';
import { checkTensors } from '../../model/weights-spec.ts';
import { ReferenceModel, type ReferenceSession, type TokenTrace } from '../../model/reference/forward.ts';
import { assertF32WeightsFit, weightsFromMap } from '../../model/reference/weights.ts';
import { sampleRef } from '../../gpu/shaders/sampling/sampling.ref.ts';
import { SparseScopeError } from '../../errors.ts';
import type { RuntimeModel, RuntimeSession, SampleRequest } from '../runtime-model.ts';

export interface CpuLoadOptions {
  /** Positions a session may hold; default min(file context, 4096), as WebGpuModel. */
  contextSize?: number;
  onProgress?: (p: { loadedBytes: number; totalBytes: number; tensor: string }) => void;
  signal?: AbortSignal;
}

export class CpuModel implements RuntimeModel {
  readonly backend = 'cpu';
  readonly hasTimestamps = false;

  private constructor(
    readonly config: ModelConfig,
    private readonly reference: ReferenceModel,
    readonly capacity: number,
  ) {}

  static async load(file: GgufFile, o: CpuLoadOptions = {}): Promise<CpuModel> {
    const config = readModelConfig(file.metadata, file.tensors);
    const specs = checkTensors(config, file.tensors);
    // every weight becomes f32 here: refuse, before the first read, a model that cannot fit
    await assertF32WeightsFit(specs);
    const bytes = new Map(file.tensors.map((t) => [t.name, t.byteLength]));
    const totalBytes = specs.reduce((a, s) => a + (bytes.get(s.name) ?? 0), 0);
    const map = new Map<string, Float32Array>();
    let loadedBytes = 0;
    for (const spec of specs) {
      if (o.signal?.aborted) throw new SparseScopeError('aborted', 'the model load was cancelled');
      const values = await file.readF32(spec.name);
      // One NaN in a weight would poison every logit: refuse the file, as the GPU upload does.
      assertFiniteValues(spec.name, values);
      map.set(spec.name, values);
      loadedBytes += bytes.get(spec.name) ?? 0;
      o.onProgress?.({ loadedBytes, totalBytes, tensor: spec.name });
    }
    const capacity = Math.min(config.contextLength, o.contextSize ?? 4096);
    return new CpuModel(config, new ReferenceModel(config, weightsFromMap(map)), capacity);
  }

  private active: CpuSession | undefined;

  session(o: { indexTopK?: number; trace?: boolean } = {}): CpuSession {
    const topK = o.indexTopK ?? this.config.indexer?.topK ?? 0;
    if (!Number.isInteger(topK) || topK < 0) throw new SparseScopeError('bad-argument', `index top-k must be an integer ≥ 0, got ${topK}`);
    const k = this.config.indexer ? topK : 0;
    this.active = new CpuSession(this, this.reference.session({ indexTopK: k, trace: o.trace }), k, !!o.trace);
    return this.active;
  }

  isActive(s: CpuSession): boolean {
    return this.active === s;
  }

  destroy(): void {
    this.active = undefined;
  }
}

export class CpuSession implements RuntimeSession {
  constructor(
    private readonly model: CpuModel,
    private readonly ref: ReferenceSession,
    readonly topK: number,
    readonly tracing: boolean,
  ) {}

  get position(): number {
    return this.ref.position;
  }

  async feed(tokens: readonly number[], o: { allLogits?: boolean } = {}): Promise<{ logits: Float32Array[]; trace?: TokenTrace[] }> {
    const steps = await this.run(tokens);
    const logits = o.allLogits ? steps.map((r) => r.logits) : [steps[steps.length - 1].logits];
    return this.tracing ? { logits, trace: steps.map((r) => r.trace!) } : { logits };
  }

  async feedAndSample(tokens: readonly number[], sample: SampleRequest): Promise<{ token: number; logits: Float32Array; trace?: TokenTrace[] }> {
    const steps = await this.run(tokens);
    const logits = steps[steps.length - 1].logits;
    const token = sampleRef(logits, sample.history, sample.settings, sample.step);
    return this.tracing ? { token, logits, trace: steps.map((r) => r.trace!) } : { token, logits };
  }

  private async run(tokens: readonly number[]): Promise<{ logits: Float32Array; trace?: TokenTrace }[]> {
    if (!this.model.isActive(this)) throw new SparseScopeError('bad-argument', 'this session was replaced by a newer one on the same model');
    if (tokens.length === 0) throw new SparseScopeError('bad-argument', 'no tokens to feed');
    if (this.position + tokens.length > this.model.capacity) {
      throw new SparseScopeError('context-overflow', `${this.position + tokens.length} tokens do not fit the ${this.model.capacity}-token context`);
    }
    const out: { logits: Float32Array; trace?: TokenTrace }[] = [];
    for (const t of tokens) {
      out.push(this.ref.step(t));
      // The forward is synchronous: give the event loop a turn per token, so a server keeps accepting
      // requests and noticing disconnects, and an abort arrives between tokens.
      await yieldToEventLoop();
    }
    return out;
  }
}

/** A macrotask turn (setImmediate in Node, a MessageChannel message in browsers; microtasks would not let I/O in). */
function yieldToEventLoop(): Promise<void> {
  if (typeof setImmediate === 'function') return new Promise((resolve) => setImmediate(resolve));
  return new Promise((resolve) => {
    const ch = new MessageChannel();
    ch.port1.onmessage = () => {
      ch.port1.close();
      resolve();
    };
    ch.port2.postMessage(null);
  });
}
