/**
 * How Node waits for the GPU. Dawn for Node settles its promises (mapAsync, onSubmittedWorkDone) by
 * polling: while one is pending, a native tick runs Dawn's event processing and queues itself again
 * with the global setImmediate, as fast as the event loop turns. That keeps one CPU core busy for the
 * whole wait. A hardware GPU does not mind. A software adapter does: lavapipe and SwiftShader run the
 * shaders on worker threads of this same CPU, and on a machine with few cores the polling thread takes
 * a core from them. `npm run bench` measures both ways side by side on a software adapter ("Node's GPU
 * wait" row).
 *
 * 'polite' polling keeps the first SPIN_MS of a wait busy, so short waits return as fast as before,
 * then sleeps before each further tick (Atomics.wait: the thread sleeps, it does not spin).
 * Only Dawn's ticks are touched (native functions; dawnTick). Every other setImmediate call goes
 * straight through.
 */

export type DawnPolling = 'busy' | 'polite';

/**
 * How long a wait polls at full speed before it starts sleeping between ticks. Waits shorter than this
 * (a decode step of a small model) keep busy polling, which also keeps the CPU out of its idle states:
 * on lavapipe the bench's empty dispatch took ~6 µs with busy polling and 30-45 µs with a poller that
 * slept from the start, and decode of its tiny model ran slower. Longer waits (prefill, large kernels) are where the stolen core costs most.
 */
const SPIN_MS = 3;
/**
 * The sleep between ticks after that: an eighth of the time waited so far, within these bounds, so a wait
 * ends at most ~1/8 (and MAX_SLEEP_MS) later than it would have, and a long wait wakes the CPU rarely.
 * (Each tick costs more than its own time: Dawn's event processing takes the driver's locks.)
 */
const MIN_SLEEP_MS = 0.1;
const MAX_SLEEP_MS = 2;
/** A tick later than this after the previous one starts a new wait. */
const NEW_WAIT_MS = 2;

let mode: DawnPolling = 'busy';
let installed = false;
let waitStart = 0;
let lastTick = -Infinity;
let sleeps = 0;
const sleeper = new Int32Array(new SharedArrayBuffer(4));

/**
 * Which of Dawn's ticks fn is: 'first' when JavaScript queued it (a mapAsync or onSubmittedWorkDone call
 * starting a wait), 'next' when Dawn queued it from its own tick (no JavaScript below this module's frames
 * but Node's timer loop, process.processImmediate), undefined for anything that is not a native function.
 */
function dawnTick(fn: unknown): 'first' | 'next' | undefined {
  if (typeof fn !== 'function' || !Function.prototype.toString.call(fn).endsWith('[native code] }')) return undefined;
  const limit = Error.stackTraceLimit;
  Error.stackTraceLimit = 3;
  const caller = (new Error().stack ?? '').split('\n')[3];
  Error.stackTraceLimit = limit;
  return caller === undefined || caller.includes('(node:internal/') ? 'next' : 'first';
}

function install(): void {
  if (installed) return;
  installed = true;
  const immediate = globalThis.setImmediate;
  const polite = function setImmediate(fn: (...args: unknown[]) => void, ...args: unknown[]) {
    const tick = mode === 'polite' ? dawnTick(fn) : undefined;
    if (tick) {
      const now = performance.now();
      // a wait starts where JavaScript asked for it (or after a gap in Dawn's ticks)
      if (tick === 'first' || now - lastTick > NEW_WAIT_MS) waitStart = now;
      if (tick === 'next' && now - waitStart > SPIN_MS) {
        Atomics.wait(sleeper, 0, 0, Math.min(MAX_SLEEP_MS, Math.max(MIN_SLEEP_MS, (now - waitStart) / 8)));
        sleeps++;
      }
      lastTick = performance.now();
    }
    return immediate(fn, ...args);
  };
  globalThis.setImmediate = Object.assign(polite, { __promisify__: immediate.__promisify__ }) as typeof globalThis.setImmediate;
}

/** Sets how Node waits for Dawn from now on (the whole process: Dawn's ticks go through one global). */
export function setDawnPolling(m: DawnPolling): void {
  if (m === 'polite') install();
  mode = m;
}

export function dawnPolling(): DawnPolling {
  return mode;
}

/** Sleeps taken between Dawn's ticks so far (a test checks the polite mode really sleeps). */
export function dawnPollingSleeps(): number {
  return sleeps;
}
