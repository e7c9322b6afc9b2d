/**
 * Will this file fit? Compares what the model needs (file bytes, or the engine's estimate once the header
 * is read) with the device's limits and the machine's memory. Pure: the model bar and tests share it.
 */
import type { MemoryPlan } from '../../model/memory-plan.ts';

export interface Verdict {
  level: 'ok' | 'tight' | 'too-big';
  lines: string[];
}

export interface Needs {
  fileBytes: number;
  estimatedGpuBytes?: number;
  largestTensorBytes?: number;
  /** the engine's memory plan (header event): replaces the estimates above when present */
  memory?: MemoryPlan;
}

export interface Device {
  limits?: Record<string, number>;
  /** navigator.deviceMemory (GiB, rounded down and capped at 8 by browsers); undefined where absent. */
  deviceMemoryGiB?: number;
  /** Free storage for the cache (navigator.storage.estimate quota - usage). */
  freeStorageBytes?: number;
  needsStorage?: boolean;
}

const GiB = 1024 ** 3;
const fmt = (n: number) => (n >= GiB ? `${(n / GiB).toFixed(2)} GiB` : `${(n / 1024 ** 2).toFixed(1)} MiB`);

export function fitVerdict(needs: Needs, device: Device): Verdict {
  const plan = needs.memory;
  const gpu = plan?.totalBytes ?? needs.estimatedGpuBytes ?? needs.fileBytes;
  const lines = [`needs about ${fmt(gpu)} of GPU memory${plan || needs.estimatedGpuBytes ? '' : ' (file size; refined once the header is read)'}`];
  if (plan) {
    lines.push(`weights ${fmt(plan.weights.gpuBytes)} + cache ${fmt(plan.cache.atContext)} (${plan.cache.context} tokens) + scratch ${fmt(plan.scratchBytes)}`);
    if (plan.cache.context < plan.cache.fileContext)
      lines.push(`context ${plan.cache.context} of the file's ${plan.cache.fileContext} (a full-context cache would take ${fmt(plan.cache.atFileContext)})`);
    for (const n of plan.notes) lines.push(n);
  }
  let level: Verdict['level'] = 'ok';
  const worse = (l: Verdict['level']) => {
    if (l === 'too-big' || (l === 'tight' && level === 'ok')) level = l;
  };
  if (device.deviceMemoryGiB) {
    // deviceMemory is capped at 8, so only a clear excess is "too big"; near it is only "tight".
    const mem = device.deviceMemoryGiB * GiB;
    if (gpu > mem && device.deviceMemoryGiB < 8) worse('too-big');
    else if (gpu > mem * 0.5) worse('tight');
    lines.push(`device reports ${device.deviceMemoryGiB >= 8 ? 'at least ' : ''}${device.deviceMemoryGiB} GiB of memory`);
  }
  const binding = device.limits?.maxStorageBufferBindingSize;
  if (plan && !plan.fits) worse('too-big');
  if (binding && needs.largestTensorBytes && needs.largestTensorBytes > binding) {
    lines.push(`largest tensor ${fmt(needs.largestTensorBytes)} exceeds one binding (${fmt(binding)}): it will be split`);
    worse('tight');
  }
  const maxBuf = device.limits?.maxBufferSize;
  if (maxBuf && needs.largestTensorBytes && needs.largestTensorBytes > maxBuf * 4) {
    lines.push(`largest tensor is over 4× this GPU's maxBufferSize (${fmt(maxBuf)})`);
    worse('too-big');
  }
  if (device.needsStorage && device.freeStorageBytes !== undefined && needs.fileBytes > device.freeStorageBytes) {
    lines.push(`only ${fmt(device.freeStorageBytes)} of browser storage free to cache it`);
    worse('tight');
  }
  return { level, lines };
}
