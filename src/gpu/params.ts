/**
 * Uniform parameter blocks, described once in TS and packed from that description, so the WGSL
 * struct and the host bytes can't drift: `wgslStruct()` prints the WGSL declaration from the same list.
 * Every field is a 4-byte scalar; the block is padded to 16 bytes (uniform buffer rule).
 */
export type ParamType = 'u32' | 'i32' | 'f32';
export type ParamLayout = readonly (readonly [name: string, type: ParamType])[];
export type ParamValues<L extends ParamLayout> = { [K in L[number] as K[0]]: number };

export function paramByteSize(layout: ParamLayout): number {
  return Math.max(16, Math.ceil((layout.length * 4) / 16) * 16);
}

export function packParams<L extends ParamLayout>(layout: L, values: ParamValues<L>): ArrayBuffer {
  const buf = new ArrayBuffer(paramByteSize(layout));
  const view = new DataView(buf);
  layout.forEach(([name, type], i) => {
    const v = (values as Record<string, number>)[name];
    if (v === undefined || !Number.isFinite(v)) throw new Error(`param ${name} is ${v}`);
    if (type === 'f32') view.setFloat32(i * 4, v, true);
    else if (type === 'i32') view.setInt32(i * 4, v, true);
    else view.setUint32(i * 4, v, true);
  });
  return buf;
}

/** The WGSL struct for a layout, e.g. `struct Params { rows: u32, cols: u32, eps: f32 }`. */
export function wgslStruct(structName: string, layout: ParamLayout): string {
  return `struct ${structName} {\n${layout.map(([n, t]) => `  ${n}: ${t},`).join('\n')}\n}`;
}

export function uniformBuffer(device: GPUDevice, layout: ParamLayout, values: ParamValues<ParamLayout>, label: string): GPUBuffer {
  const data = packParams(layout, values);
  const buffer = device.createBuffer({ label, size: data.byteLength, usage: GPUBufferUsage.UNIFORM | GPUBufferUsage.COPY_DST });
  device.queue.writeBuffer(buffer, 0, data);
  return buffer;
}
