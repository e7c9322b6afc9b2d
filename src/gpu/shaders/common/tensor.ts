/**
 * GpuTensor: a GGUF weight tensor on the GPU in its own block format, bound to kernels as array<u32>.
 * Tensors larger than one storage binding (maxStorageBufferBindingSize: 128 MiB on lavapipe and many
 * browsers) are split at row boundaries into parts, each its own buffer; kernels run once per part.
 * 3-D expert tensors are split at expert boundaries so each expert lies whole in one part.
 */
import { SparseScopeError } from '../../../errors.ts';
import { rowBytes as rowBytesOf, type WeightType } from './quant-types.ts';

export interface GpuTensorPart {
  buffer: GPUBuffer;
  /** First row (of the tensor flattened to rows of shape[0] values) held by this part. */
  rowStart: number;
  rowCount: number;
}

export interface GpuTensor {
  name: string;
  type: WeightType;
  /** GGUF ne, fastest first: [K, N] for a matrix of N rows of K values, [K, N, X] for X experts. */
  shape: readonly number[];
  /** Bytes of one row of shape[0] values. */
  rowBytes: number;
  /** All rows: the product of shape[1..]. */
  rows: number;
  parts: GpuTensorPart[];
}

export interface TensorSpec {
  name: string;
  type: WeightType;
  shape: readonly number[];
}

export interface SplitOptions {
  /** Largest part in bytes; defaults to the device's binding and buffer limits. Tests force tiny values. */
  maxPartBytes?: number;
  /** Parts start at multiples of this many rows; defaults to shape[1] for 3-D tensors (whole experts), else 1. */
  rowGroup?: number;
}

export interface PartPlan {
  rowStart: number;
  rowCount: number;
}

/** Splits `rows` rows into as few parts as fit in `maxBytes` each, cutting only at multiples of `rowGroup`. */
export function planParts(rows: number, rowBytes: number, maxBytes: number, rowGroup = 1): PartPlan[] {
  const groupBytes = rowGroup * rowBytes;
  if (groupBytes > maxBytes) {
    throw new SparseScopeError(
      'device-limits',
      `a group of ${rowGroup} rows is ${groupBytes} bytes, more than one GPU storage binding holds (${maxBytes} bytes)`,
    );
  }
  const groupsPerPart = Math.floor(maxBytes / groupBytes);
  const rowsPerPart = groupsPerPart * rowGroup;
  const parts: PartPlan[] = [];
  for (let r = 0; r < rows; r += rowsPerPart) parts.push({ rowStart: r, rowCount: Math.min(rowsPerPart, rows - r) });
  return parts;
}

function tensorGeometry(spec: TensorSpec): { rowBytes: number; rows: number } {
  if (spec.shape.length < 1 || spec.shape.some((d) => !Number.isInteger(d) || d <= 0)) {
    throw new SparseScopeError('wrong-shape', `${spec.name}: bad shape [${spec.shape.join(', ')}]`);
  }
  return { rowBytes: rowBytesOf(spec.type, spec.shape[0]), rows: spec.shape.slice(1).reduce((a, b) => a * b, 1) };
}

export function defaultMaxPartBytes(device: GPUDevice): number {
  // Buffers are padded to 16 bytes (kernels read vec4<u32>), so keep a part 16 bytes under the limits.
  return Math.min(device.limits.maxStorageBufferBindingSize, device.limits.maxBufferSize) - 16;
}

export function planTensor(device: GPUDevice, spec: TensorSpec, opts: SplitOptions = {}): PartPlan[] {
  const { rowBytes, rows } = tensorGeometry(spec);
  const group = opts.rowGroup ?? (spec.shape.length >= 3 ? spec.shape[1] : 1);
  return planParts(rows, rowBytes, opts.maxPartBytes ?? defaultMaxPartBytes(device), group);
}

function partBuffer(device: GPUDevice, name: string, index: number, byteLength: number): GPUBuffer {
  return device.createBuffer({
    label: `${name}#${index}`,
    // Kernels bind parts as array<vec4<u32>>: a size that is not a multiple of 16 would hide the last bytes.
    size: Math.max(16, Math.ceil(byteLength / 16) * 16),
    usage: GPUBufferUsage.STORAGE | GPUBufferUsage.COPY_DST | GPUBufferUsage.COPY_SRC,
    mappedAtCreation: true,
  });
}

/** Uploads a tensor's GGUF bytes (rows × rowBytes, no padding between rows) as one or more parts. */
export function uploadTensor(device: GPUDevice, spec: TensorSpec, data: Uint8Array, opts: SplitOptions = {}): GpuTensor {
  const { rowBytes, rows } = tensorGeometry(spec);
  if (data.byteLength < rows * rowBytes) {
    throw new SparseScopeError('truncated', `${spec.name}: ${data.byteLength} bytes given, ${rows * rowBytes} needed`);
  }
  const parts = planTensor(device, spec, opts).map((p, i) => {
    const bytes = p.rowCount * rowBytes;
    const buffer = partBuffer(device, spec.name, i, bytes);
    new Uint8Array(buffer.getMappedRange(), 0, bytes).set(data.subarray(p.rowStart * rowBytes, p.rowStart * rowBytes + bytes));
    buffer.unmap();
    return { buffer, rowStart: p.rowStart, rowCount: p.rowCount };
  });
  return { name: spec.name, type: spec.type, shape: [...spec.shape], rowBytes, rows, parts };
}

/**
 * Like uploadTensor, reading the bytes part by part (`read(byteOffset, byteLength)` relative to the
 * tensor's first byte), so a loader streaming a GGUF file never holds a whole large tensor.
 */
export async function uploadTensorFrom(
  device: GPUDevice,
  spec: TensorSpec,
  read: (byteOffset: number, byteLength: number) => Promise<Uint8Array>,
  opts: SplitOptions = {},
): Promise<GpuTensor> {
  const { rowBytes, rows } = tensorGeometry(spec);
  const parts: GpuTensorPart[] = [];
  for (const [i, p] of planTensor(device, spec, opts).entries()) {
    const bytes = p.rowCount * rowBytes;
    const buffer = partBuffer(device, spec.name, i, bytes);
    try {
      const data = await read(p.rowStart * rowBytes, bytes);
      if (data.byteLength < bytes) throw new SparseScopeError('truncated', `${spec.name}: part ${i} is short of bytes`);
      new Uint8Array(buffer.getMappedRange(), 0, bytes).set(data.subarray(0, bytes));
      buffer.unmap();
    } catch (e) {
      buffer.destroy();
      parts.forEach((q) => q.buffer.destroy());
      throw e;
    }
    parts.push({ buffer, rowStart: p.rowStart, rowCount: p.rowCount });
  }
  return { name: spec.name, type: spec.type, shape: [...spec.shape], rowBytes, rows, parts };
}

export function destroyTensor(t: GpuTensor): void {
  for (const p of t.parts) p.buffer.destroy();
}

/** Bytes the tensor occupies on the GPU (its GGUF size, plus at most 15 bytes of padding per part). */
export function tensorBytes(t: GpuTensor): number {
  return t.rows * t.rowBytes;
}
