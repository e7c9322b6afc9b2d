/**
 * The llama.cpp build the reference runs: a project-owned copy of node-llama-cpp's prebuilt CPU
 * package holding the one CPU variant the reference is pinned to.
 *
 * ggml ships one CPU library per x86-64 micro-architecture (`libggml-cpu-<variant>.so`) and loads
 * the best-scoring one the CPU supports. Two reasons not to let it choose:
 * - the variants sum in different orders (AVX2, AVX-512, AVX-512 VNNI, AMX tiles), so llama.cpp's
 *   logits differ by rounding from one CPU to the next, and a greedy continuation can flip at a
 *   near-tie: an exact comparison that passes on one machine could fail on another. Pinned to one
 *   variant, llama.cpp computes the same bits on every machine that runs the suite;
 * - on CPUs with AMX (Intel Sapphire Rapids and later) ggml picks `sapphirerapids`, whose AMX buffer
 *   type takes Q8_0/Q4_K weights, and on `deepseek32` graphs ggml's scheduler then finds no backend
 *   for a node and aborts the process (`ggml-backend.cpp: GGML_ASSERT(*cur_backend_id != -1)`).
 * The pin is `haswell` (AVX2 + FMA + F16C: every x86-64 server CPU of the last decade). Where the CPU
 * cannot run it (or the platform has no variants), the copy only leaves out the AMX variant and the
 * test output says so. The child process that runs llama.cpp (child.ts) is pointed at the copy by a
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

/** The variant the reference is pinned to, and the /proc/cpuinfo flags ggml requires before it loads it. */
export const PINNED_CPU_VARIANT = 'haswell';
const PINNED_CPU_FLAGS = ['pni', 'ssse3', 'avx', 'avx2', 'f16c', 'fma', 'bmi2']; // pni = SSE3

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
  /** the one variant the copy holds, or null where it is not pinned (and why not) */
  pinned: string | null;
  unpinnedBecause?: string;
}

const VARIANT_RE = /^libggml-cpu-(.+)\.(so|dll|dylib)$/;

/**
 * Make (once; reused while the source package's version is the same) the copy of the prebuilt
 * package under `.cache/llama-cpp/`, without `exclude`d variants (default: all but the pinned one
 * where this CPU runs it, else the AMX one). Files are hard-linked where the
 * file system allows, else copied (~30 MB). Built in a temporary folder and renamed, so parallel
 * test files never see half a copy.
 */
export function prepareReferenceBuild(o: { exclude?: readonly string[]; cacheRoot?: string } = {}): ReferenceBuild {
  const packageName = prebuiltPackageName();
  const src = packageDir(packageName);
  const version = (JSON.parse(readFileSync(join(src, 'package.json'), 'utf8')) as { version: string }).version;
  const variantsOf = (dir: string) =>
    listFiles(dir)
      .map((f) => VARIANT_RE.exec(f.split('/').pop()!)?.[1])
      .filter((v): v is string => !!v);
  const available = variantsOf(src);
  const pin = o.exclude ? { pinned: null, why: 'the caller chose the variants' } : pinnedVariant(available);
  const exclude = o.exclude ?? (pin.pinned ? available.filter((v) => v !== pin.pinned) : EXCLUDED_CPU_VARIANTS);
  const tag = pin.pinned ? `only-${pin.pinned}` : exclude.length ? `without-${[...exclude].sort().join('-')}` : 'all-variants';
  const dest = resolve(o.cacheRoot ?? CACHE_ROOT, `${packageName.split('/')[1]}-${version}-${tag}`);
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
  return {
    packageDir: dest,
    packageName,
    variants: variantsOf(dest),
    excluded: [...exclude],
    pinned: pin.pinned,
    ...(pin.pinned ? {} : { unpinnedBecause: pin.why }),
  };
}

/** How a build was made, for the suites' output: `pinned to haswell`, or why not and what it left out. */
export function describeBuild(b: ReferenceBuild): string {
  return b.pinned ? `pinned to ${b.pinned}` : `not pinned: ${b.unpinnedBecause}; left out: ${b.excluded.join(', ') || 'none'}`;
}

/** PINNED_CPU_VARIANT when the package has it and this CPU has every flag ggml checks for it. */
function pinnedVariant(available: readonly string[]): { pinned: string | null; why: string } {
  if (!available.includes(PINNED_CPU_VARIANT))
    return { pinned: null, why: `the package has no ${PINNED_CPU_VARIANT} variant (${available.join(', ') || 'none'})` };
  const flags = new Set(cpuFlags());
  const missing = PINNED_CPU_FLAGS.filter((f) => !flags.has(f));
  if (missing.length) return { pinned: null, why: `this CPU lacks ${missing.join(', ')}` };
  return { pinned: PINNED_CPU_VARIANT, why: '' };
}

/** The CPU's feature flags (Linux: /proc/cpuinfo; elsewhere none are known). */
function cpuFlags(): string[] {
  try {
    return /^flags\s*:(.*)$/m.exec(readFileSync('/proc/cpuinfo', 'utf8'))?.[1].trim().split(/\s+/) ?? [];
  } catch {
    return [];
  }
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
  return cpuFlags().includes('amx_int8');
}
