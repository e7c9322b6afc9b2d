/**
 * Every failure the product reports to a user is a SparseScopeError: a stable `code` that the UI and
 * tests can switch on, and a message that names what is wrong and what is supported.
 */
export type ErrorCode =
  | 'not-gguf'
  | 'gguf-version'
  | 'truncated'
  | 'out-of-bounds'
  | 'overlapping-tensors'
  | 'misaligned-tensor'
  | 'absurd-size'
  | 'unknown-architecture'
  | 'missing-tensor'
  | 'wrong-shape'
  | 'unsupported-quant'
  | 'missing-metadata'
  | 'bad-metadata'
  | 'tokenizer'
  | 'template'
  | 'non-finite'
  | 'context-overflow'
  | 'no-webgpu'
  | 'no-adapter'
  | 'device-lost'
  | 'device-limits'
  | 'gpu-error'
  | 'aborted'
  | 'network'
  | 'bad-argument'
  | 'not-implemented'
  /** a split GGUF set with a missing, extra, duplicate or mismatched part */
  | 'split-part'
  /** the model needs more memory than the host or device has (the message gives both figures) */
  | 'out-of-memory'
  /** browser storage (Cache Storage) full, or a cached model changed since it was stored */
  | 'storage'
  /** a CPU backend pool worker died or stopped answering mid-matmul (the engine goes on with one thread) */
  | 'worker-failed';

export class SparseScopeError extends Error {
  override readonly name = 'SparseScopeError';
  constructor(
    readonly code: ErrorCode,
    message: string,
  ) {
    super(message);
  }
}

export function isSparseScopeError(e: unknown): e is SparseScopeError {
  return e instanceof SparseScopeError || (typeof e === 'object' && e !== null && (e as { name?: string }).name === 'SparseScopeError');
}
