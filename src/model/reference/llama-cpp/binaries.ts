/**
 * The llama.cpp build the reference runs: a project-owned copy of node-llama-cpp's prebuilt CPU
 * package with the CPU variants we cannot trust left out.
 *
 * ggml ships one CPU library per x86-64 micro-architecture (`libggml-cpu-<variant>.so`) and loads
 * the best-scoring one the CPU supports. On CPUs with AMX (Intel Sapphire Rapids and later) that is
 * `sapphirerapids`, whose AMX buffer type takes Q8_0/Q4_K weights, and on `deepseek32` graphs ggml's
 * scheduler then finds no backend for a node and aborts the process
 * (`ggml-backend.cpp: GGML_ASSERT(*cur_backend_id != -1)`). Without that library ggml takes the next
 * variant (AVX-512 without AMX), which runs the same files and agrees with our engine. So the copy
 * leaves it out, and the child process that runs llama.cpp (child.ts) is pointed at the copy by a
 * module-resolution hook (resolve-hooks.mjs): node_modules is never edited. See
 * docs/llama-cpp-reference.md.
 */
import { copyFileSync, existsSync, linkSync, mkdirSync, readdirSync, readFileSync, renameSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

/** The project's cache folder (.cache/ at the repository root, whatever the caller's working directory). */
const CACHE_ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '../../../../.cache/llama-cpp');

/** CPU variants never loaded by the reference: AMX, whose buffer type aborts deepseek32 graphs. */
export const EXCLUDED_CPU_VARIANTS: readonly string[] = ['sapphirerapids'];

/** The npm package of node-llama-cpp's prebuilt CPU binaries for this machine, e.g. `@node-llama-cpp/linux-x64`. */
export function prebuiltPackageName(): string {
  return `@node-llama-cpp/${process.platform === 'win32' ? 'win' : process.platform === 'darwin' ? 'mac' : 'linux'}-${process.arch}`;
}

function packageDir(name: string): string {
  // resolve from node-llama-cpp's own folder, as node-llama-cpp itself imports it
  const require = createRequire(createRequire(import.meta.url).resolve('node-llama-cpp'));
  return dirname(dirname(require.resolve(name))); // <pkg>/dist/index.js → <pkg>
}

export interface ReferenceBuild {
  /** the copied package (its dist/index.js reports its own bins/ folder) */
  packageDir: string;
  packageName: string;
  /** CPU variant libraries in the copy */
  variants: string[];
  excluded: string[];
}

const VARIANT_RE = /^libggml-cpu-(.+)\.(so|dll|dylib)$/;

/**
 * Make (once; reused while the source package's version is the same) the copy of the prebuilt
 * package under `.cache/llama-cpp/`, without `exclude`d variants. Files are hard-linked where the
 * file system allows, else copied (~30 MB). Built in a temporary folder and renamed, so parallel
 * test files never see half a copy.
 */
export function prepareReferenceBuild(o: { exclude?: readonly string[]; cacheRoot?: string } = {}): ReferenceBuild {
  const exclude = o.exclude ?? EXCLUDED_CPU_VARIANTS;
  const packageName = prebuiltPackageName();
  const src = packageDir(packageName);
  const version = (JSON.parse(readFileSync(join(src, 'package.json'), 'utf8')) as { version: string }).version;
  const tag = exclude.length ? `without-${[...exclude].sort().join('-')}` : 'all-variants';
  const dest = resolve(o.cacheRoot ?? CACHE_ROOT, `${packageName.split('/')[1]}-${version}-${tag}`);
  const variantsOf = (dir: string) =>
    listFiles(dir)
      .map((f) => VARIANT_RE.exec(f.split('/').pop()!)?.[1])
      .filter((v): v is string => !!v);
  if (!existsSync(join(dest, 'package.json'))) {
    const tmp = `${dest}.tmp-${process.pid}`;
    rmSync(tmp, { recursive: true, force: true });
    for (const rel of listFiles(src)) {
      const m = VARIANT_RE.exec(rel.split('/').pop()!);
      if (m && exclude.includes(m[1])) continue;
      const to = join(tmp, rel);
      mkdirSync(dirname(to), { recursive: true });
      try {
        linkSync(join(src, rel), to);
      } catch {
        copyFileSync(join(src, rel), to);
      }
    }
    writeFileSync(
      join(tmp, 'SPARSESCOPE.txt'),
      `Copy of ${packageName} ${version} made by src/model/reference/llama-cpp/binaries.ts; left out: ${exclude.join(', ') || 'nothing'}.\n`,
    );
    try {
      renameSync(tmp, dest);
    } catch (e) {
      rmSync(tmp, { recursive: true, force: true });
      if (!existsSync(join(dest, 'package.json'))) throw e; // else another process made it first
    }
  }
  return { packageDir: dest, packageName, variants: variantsOf(dest), excluded: [...exclude] };
}

function listFiles(root: string, rel = ''): string[] {
  const out: string[] = [];
  for (const name of readdirSync(join(root, rel))) {
    const r = rel ? `${rel}/${name}` : name;
    if (statSync(join(root, r)).isDirectory()) out.push(...listFiles(root, r));
    else out.push(r);
  }
  return out;
}

/** Whether this CPU has AMX (Linux: the `amx_int8` flag in /proc/cpuinfo). */
export function cpuHasAmx(): boolean {
  try {
    return /\bamx_int8\b/.test(readFileSync('/proc/cpuinfo', 'utf8'));
  } catch {
    return false;
  }
}
