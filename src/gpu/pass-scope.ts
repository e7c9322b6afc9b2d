/**
 * Many kernels, one compute pass. Every kernel records its dispatches through `recordInPass`; inside
 * `inOnePass(enc, run)` they all share one open pass instead of each opening its own. Nothing changes in
 * the results: dispatches in a pass run in order and each one sees the storage writes of those before it
 * (WebGPU makes every dispatch its own usage scope). What changes is the cost: a browser pays tens of
 * microseconds per pass, and a decode step used to open one per kernel (~35 per layer).
 *
 * An encoder command that cannot run inside a pass (copyBufferToBuffer, clearBuffer, resolveQuerySet)
 * must be preceded by `leavePass(enc)`; the next kernel then opens a new shared pass. A pass that writes
 * timestamps is always its own pass, since the timestamps bracket exactly it.
 */

interface Scope {
  label: string;
  pass: GPUComputePassEncoder | undefined;
}

const scopes = new WeakMap<GPUCommandEncoder, Scope>();

/** Runs `run` with every kernel recorded on `enc` in one shared compute pass (split only by `leavePass`). */
export function inOnePass<T>(enc: GPUCommandEncoder, label: string, run: () => T): T {
  if (scopes.has(enc)) return run(); // already shared by an outer scope
  const scope: Scope = { label, pass: undefined };
  scopes.set(enc, scope);
  try {
    return run();
  } finally {
    scope.pass?.end();
    scopes.delete(enc);
  }
}

/** Records dispatches: in the shared pass when `enc` is inside `inOnePass`, else in a pass of their own. */
export function recordInPass(
  enc: GPUCommandEncoder,
  label: string,
  record: (pass: GPUComputePassEncoder) => void,
  timestampWrites?: GPUComputePassTimestampWrites,
): void {
  const scope = scopes.get(enc);
  if (!scope || timestampWrites) {
    if (scope) leavePass(enc);
    const pass = enc.beginComputePass({ label, timestampWrites });
    record(pass);
    pass.end();
    return;
  }
  scope.pass ??= enc.beginComputePass({ label: scope.label });
  record(scope.pass);
}

/** Ends the shared pass, if one is open, so the encoder itself can record a copy or clear next. */
export function leavePass(enc: GPUCommandEncoder): void {
  const scope = scopes.get(enc);
  if (scope?.pass) {
    scope.pass.end();
    scope.pass = undefined;
  }
}
