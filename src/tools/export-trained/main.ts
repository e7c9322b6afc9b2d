/**
 * npx tsx src/tools/export-trained/main.ts <dump dir> <out.gguf> [--type Q8_0|F16|F32]
 *
 * Turns the trainer's dump (tools/train/train.py: manifest.json + one raw little-endian float32 file
 * per tensor, GGUF names and ne shapes already chosen there) into a llama.cpp `deepseek32` GGUF with
 * the project's writer and codecs. Prints the file size and its sha256.
 */
import { createHash } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { GgmlType, elementCount, quantize, type GgufMetadataEntry, type GgmlTypeName, type GgufTensorSpec } from '../../gguf/index.ts';
import { writeGgufFile } from '../../gguf/write-file.ts';

interface ManifestTensor {
  name: string;
  shape: number[];
  file: string;
  types: Record<string, string>;
}

interface Manifest {
  format: string;
  arch: string;
  metadata: Record<string, GgufMetadataEntry[]>;
  tensors: ManifestTensor[];
}

function usage(msg: string): never {
  process.stderr.write(`${msg}\nusage: npx tsx src/tools/export-trained/main.ts <dump dir> <out.gguf> [--type Q8_0|F16|F32]\n`);
  process.exit(2);
}

async function readF32(path: string, count: number): Promise<Float32Array> {
  const buf = await readFile(path);
  if (buf.byteLength !== count * 4) throw new Error(`${path}: ${buf.byteLength} bytes, expected ${count * 4}`);
  const out = new Float32Array(count);
  new Uint8Array(out.buffer).set(buf); // little-endian on every platform Node runs on here
  return out;
}

export async function exportTrained(dumpDir: string, outPath: string, qtype: string): Promise<{ bytes: number; sha256: string }> {
  const man = JSON.parse(await readFile(join(dumpDir, 'manifest.json'), 'utf8')) as Manifest;
  if (man.format !== 'sparsescope-trained-v1') throw new Error(`${dumpDir}: unknown dump format ${man.format}`);
  const metadata = man.metadata[qtype];
  if (!metadata) usage(`--type ${qtype}: the dump has ${Object.keys(man.metadata).join(', ')}`);
  const tensors: GgufTensorSpec[] = [];
  for (const t of man.tensors) {
    const typeName = t.types[qtype] as GgmlTypeName;
    const type = GgmlType[typeName];
    if (type === undefined) throw new Error(`${t.name}: unknown type ${typeName}`);
    const values = await readF32(join(dumpDir, t.file), elementCount(t.shape));
    tensors.push({ name: t.name, type, shape: t.shape, data: quantize(type, values) });
  }
  const bytes = await writeGgufFile(outPath, { metadata, tensors });
  const sha256 = createHash('sha256')
    .update(await readFile(outPath))
    .digest('hex');
  return { bytes, sha256 };
}

async function main(argv: string[]): Promise<void> {
  const pos: string[] = [];
  let qtype = 'Q8_0';
  for (let i = 0; i < argv.length; i++) {
    if (argv[i] === '--type') qtype = argv[++i] ?? usage('--type needs a value');
    else pos.push(argv[i]);
  }
  if (pos.length !== 2) usage('expected <dump dir> and <out.gguf>');
  const { bytes, sha256 } = await exportTrained(pos[0], pos[1], qtype);
  process.stdout.write(`${pos[1]}: ${bytes} bytes, ${qtype}, sha256 ${sha256}\n`);
}

if (process.argv[1] && import.meta.url.endsWith(process.argv[1].replace(/\\/g, '/').split('/').pop() ?? '')) {
  main(process.argv.slice(2)).catch((e: unknown) => {
    process.stderr.write(`${e instanceof Error ? e.message : String(e)}\n`);
    process.exit(1);
  });
}
