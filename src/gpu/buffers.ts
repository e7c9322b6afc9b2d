/** Buffer helpers shared by every dispatcher: upload typed arrays, allocate scratch, read results back. */

export type HostArray = Float32Array | Uint32Array | Int32Array | Uint8Array | Uint16Array;

/** A storage buffer holding `data` (padded to 4 bytes, as WebGPU requires). */
export function uploadStorage(device: GPUDevice, data: HostArray, label: string, extraUsage = 0): GPUBuffer {
  const size = Math.max(4, Math.ceil(data.byteLength / 4) * 4);
  const buffer = device.createBuffer({
    label,
    size,
    usage: GPUBufferUsage.STORAGE | GPUBufferUsage.COPY_SRC | GPUBufferUsage.COPY_DST | extraUsage,
    mappedAtCreation: true,
  });
  new Uint8Array(buffer.getMappedRange()).set(new Uint8Array(data.buffer, data.byteOffset, data.byteLength));
  buffer.unmap();
  return buffer;
}

export function createStorage(device: GPUDevice, byteLength: number, label: string): GPUBuffer {
  return device.createBuffer({
    label,
    size: Math.max(4, Math.ceil(byteLength / 4) * 4),
    usage: GPUBufferUsage.STORAGE | GPUBufferUsage.COPY_SRC | GPUBufferUsage.COPY_DST,
  });
}

/** Copies `byteLength` bytes of `src` to the host. Only what a caller asked to see is read back. */
export async function readBack(device: GPUDevice, src: GPUBuffer, byteLength = src.size, srcOffset = 0): Promise<ArrayBuffer> {
  const size = Math.ceil(byteLength / 4) * 4;
  const staging = device.createBuffer({ label: `${src.label}:readback`, size, usage: GPUBufferUsage.COPY_DST | GPUBufferUsage.MAP_READ });
  const enc = device.createCommandEncoder({ label: 'readback' });
  enc.copyBufferToBuffer(src, srcOffset, staging, 0, size);
  device.queue.submit([enc.finish()]);
  await staging.mapAsync(GPUMapMode.READ);
  const out = staging.getMappedRange().slice(0, byteLength);
  staging.unmap();
  staging.destroy();
  return out;
}

export async function readF32(device: GPUDevice, src: GPUBuffer, count: number, offsetElems = 0): Promise<Float32Array> {
  return new Float32Array(await readBack(device, src, count * 4, offsetElems * 4));
}
