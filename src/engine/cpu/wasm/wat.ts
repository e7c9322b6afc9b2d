/**
 * A small assembler for the CPU backend's WebAssembly kernels: functions written in flat WAT (one
 * instruction per line, named locals and labels) become a module that imports its memory as
 * `env.memory`. Only what the kernels use is known; an unknown instruction throws, naming it.
 * Why not a toolchain: the kernels are a few hundred instructions, and the product installs nothing
 * beyond npm packages, so the module is assembled where it runs (microseconds) from readable text.
 *
 * Syntax of a body line: `op [immediates]`, `;;` starts a comment. Locals and params are `$name`;
 * `block $l` / `loop $l` open a label that `br $l` / `br_if $l` name; memory ops take
 * `offset=N` and `align=N` (bytes, a power of two); `i8x16.shuffle` takes 16 lane indices and
 * `v128.const` 16 bytes (its i8x16 form, without the `i8x16` word).
 */

export type ValType = 'i32' | 'f32' | 'v128';

export interface WatFunction {
  name: string;
  params: readonly [string, ValType][];
  result?: ValType;
  locals: readonly [string, ValType][];
  body: string;
}

const VALTYPE: Record<ValType, number> = { i32: 0x7f, f32: 0x7d, v128: 0x7b };

/** Core opcodes: [byte, immediate kind]. */
const CORE: Record<string, [number, Imm]> = {
  unreachable: [0x00, 'none'],
  block: [0x02, 'label'],
  loop: [0x03, 'label'],
  if: [0x04, 'label'],
  else: [0x05, 'none'],
  end: [0x0b, 'none'],
  br: [0x0c, 'br'],
  br_if: [0x0d, 'br'],
  return: [0x0f, 'none'],
  drop: [0x1a, 'none'],
  select: [0x1b, 'none'],
  'local.get': [0x20, 'local'],
  'local.set': [0x21, 'local'],
  'local.tee': [0x22, 'local'],
  'i32.load': [0x28, 'mem4'],
  'f32.load': [0x2a, 'mem4'],
  'i32.load8_s': [0x2c, 'mem1'],
  'i32.load8_u': [0x2d, 'mem1'],
  'i32.load16_s': [0x2e, 'mem2'],
  'i32.load16_u': [0x2f, 'mem2'],
  'i32.store': [0x36, 'mem4'],
  'f32.store': [0x38, 'mem4'],
  'i32.const': [0x41, 'i32'],
  'f32.const': [0x43, 'f32'],
  'i32.eqz': [0x45, 'none'],
  'i32.eq': [0x46, 'none'],
  'i32.ne': [0x47, 'none'],
  'i32.lt_s': [0x48, 'none'],
  'i32.lt_u': [0x49, 'none'],
  'i32.gt_s': [0x4a, 'none'],
  'i32.gt_u': [0x4b, 'none'],
  'i32.le_u': [0x4d, 'none'],
  'i32.ge_s': [0x4e, 'none'],
  'i32.ge_u': [0x4f, 'none'],
  'i32.add': [0x6a, 'none'],
  'i32.sub': [0x6b, 'none'],
  'i32.mul': [0x6c, 'none'],
  'i32.and': [0x71, 'none'],
  'i32.or': [0x72, 'none'],
  'i32.shl': [0x74, 'none'],
  'i32.shr_s': [0x75, 'none'],
  'i32.shr_u': [0x76, 'none'],
  'f32.add': [0x92, 'none'],
  'f32.sub': [0x93, 'none'],
  'f32.mul': [0x94, 'none'],
  'f32.convert_i32_s': [0xb2, 'none'],
};

/** SIMD opcodes (after the 0xfd prefix, LEB128): [opcode, immediate kind]. */
const SIMD: Record<string, [number, Imm]> = {
  'v128.load': [0x00, 'mem16'],
  'v128.load8x8_s': [0x01, 'mem8'],
  'v128.store': [0x0b, 'mem16'],
  'v128.const': [0x0c, 'lanes16'],
  'i8x16.shuffle': [0x0d, 'lanes16'],
  'i8x16.splat': [0x0f, 'none'],
  'i16x8.splat': [0x10, 'none'],
  'i32x4.splat': [0x11, 'none'],
  'f32x4.splat': [0x13, 'none'],
  'i32x4.extract_lane': [0x1b, 'lane'],
  'f32x4.extract_lane': [0x1f, 'lane'],
  'i8x16.eq': [0x23, 'none'],
  'v128.and': [0x4e, 'none'],
  'v128.or': [0x50, 'none'],
  'i8x16.shl': [0x6b, 'none'],
  'i8x16.shr_u': [0x6d, 'none'],
  'i8x16.sub': [0x71, 'none'],
  'i32x4.extadd_pairwise_i16x8_s': [0x7e, 'none'],
  'i16x8.extend_low_i8x16_s': [0x87, 'none'],
  'i16x8.extend_high_i8x16_s': [0x88, 'none'],
  'i16x8.extend_low_i8x16_u': [0x89, 'none'],
  'i16x8.extend_high_i8x16_u': [0x8a, 'none'],
  'i16x8.add': [0x8e, 'none'],
  'i16x8.mul': [0x95, 'none'],
  'i16x8.extmul_low_i8x16_s': [0x9c, 'none'],
  'i16x8.extmul_high_i8x16_s': [0x9d, 'none'],
  'i32x4.extend_low_i16x8_s': [0xa7, 'none'],
  'i32x4.extend_high_i16x8_s': [0xa8, 'none'],
  'i32x4.add': [0xae, 'none'],
  'i32x4.mul': [0xb5, 'none'],
  'i32x4.dot_i16x8_s': [0xba, 'none'],
  'f32x4.add': [0xe4, 'none'],
  'f32x4.sub': [0xe5, 'none'],
  'f32x4.mul': [0xe6, 'none'],
  'f32x4.convert_i32x4_s': [0xfa, 'none'],
};

type Imm = 'none' | 'label' | 'br' | 'local' | 'mem1' | 'mem2' | 'mem4' | 'mem8' | 'mem16' | 'i32' | 'f32' | 'lane' | 'lanes16';

function uleb(n: number, out: number[]): void {
  do {
    let b = n & 0x7f;
    n >>>= 7;
    if (n !== 0) b |= 0x80;
    out.push(b);
  } while (n !== 0);
}

function sleb(n: number, out: number[]): void {
  for (;;) {
    const b = n & 0x7f;
    n >>= 7;
    if ((n === 0 && (b & 0x40) === 0) || (n === -1 && (b & 0x40) !== 0)) {
      out.push(b);
      return;
    }
    out.push(b | 0x80);
  }
}

function name(s: string, out: number[]): void {
  const b = new TextEncoder().encode(s);
  uleb(b.length, out);
  out.push(...b);
}

function section(id: number, body: number[], out: number[]): void {
  out.push(id);
  uleb(body.length, out);
  out.push(...body);
}

export class WatError extends Error {}

function assembleBody(f: WatFunction): number[] {
  const locals = new Map<string, number>();
  [...f.params, ...f.locals].forEach(([n], i) => {
    if (locals.has(n)) throw new WatError(`${f.name}: local $${n} declared twice`);
    locals.set(n, i);
  });
  const out: number[] = [];
  // locals, grouped as the format wants (count, type) runs
  const runs: [number, ValType][] = [];
  for (const [, t] of f.locals) {
    if (runs.length && runs[runs.length - 1][1] === t) runs[runs.length - 1][0]++;
    else runs.push([1, t]);
  }
  uleb(runs.length, out);
  for (const [n, t] of runs) {
    uleb(n, out);
    out.push(VALTYPE[t]);
  }
  const labels: (string | null)[] = [];
  const lines = f.body.split('\n');
  lines.forEach((raw, lineNo) => {
    const line = raw.replace(/;;.*$/, '').trim();
    if (!line) return;
    const [op, ...args] = line.split(/\s+/);
    const where = `${f.name}, line ${lineNo + 1} ("${line}")`;
    const core = CORE[op];
    const simd = SIMD[op];
    if (!core && !simd) throw new WatError(`${where}: unknown instruction ${op}`);
    const [code, imm] = core ?? simd;
    if (core) out.push(code);
    else {
      out.push(0xfd);
      uleb(code, out);
    }
    const local = (a: string | undefined) => {
      const i = a?.startsWith('$') ? locals.get(a.slice(1)) : undefined;
      if (i === undefined) throw new WatError(`${where}: unknown local ${a}`);
      return i;
    };
    switch (imm) {
      case 'none':
        if (op === 'end') labels.pop();
        if (op === 'else' && labels.length === 0) throw new WatError(`${where}: else outside if`);
        break;
      case 'label':
        out.push(0x40); // blocks take and leave nothing
        labels.push(args[0]?.startsWith('$') ? args[0].slice(1) : null);
        break;
      case 'br': {
        const target = args[0]?.startsWith('$') ? args[0].slice(1) : undefined;
        const depth = labels.length - 1 - labels.lastIndexOf(target ?? '\0');
        if (target === undefined || depth >= labels.length) throw new WatError(`${where}: unknown label ${args[0]}`);
        uleb(depth, out);
        break;
      }
      case 'local':
        uleb(local(args[0]), out);
        break;
      case 'i32':
        sleb(Number(args[0]) | 0, out);
        break;
      case 'f32': {
        const b = new Uint8Array(new Float32Array([Number(args[0])]).buffer);
        out.push(...b);
        break;
      }
      case 'lane':
        out.push(Number(args[0]));
        break;
      case 'lanes16':
        if (args.length !== 16) throw new WatError(`${where}: ${op} takes 16 bytes (lane indices, or an i8x16 constant)`);
        out.push(...args.map(Number));
        break;
      default: {
        // memarg: alignment (log2, natural unless given) and offset
        const natural = Number(imm.slice(3));
        let offset = 0;
        let align = natural;
        for (const a of args) {
          const m = /^(offset|align)=(\d+)$/.exec(a);
          if (!m) throw new WatError(`${where}: bad memory immediate ${a}`);
          if (m[1] === 'offset') offset = Number(m[2]);
          else align = Number(m[2]);
        }
        uleb(Math.log2(align), out);
        uleb(offset, out);
      }
    }
  });
  if (labels.length !== 0) throw new WatError(`${f.name}: ${labels.length} block(s) not closed`);
  out.push(0x0b);
  return out;
}

/**
 * The module: functions exported by name, memory imported as env.memory with `pages` of 64 KiB as
 * its minimum (shared memories also need their maximum; the caller's Memory must match both).
 */
export function assembleModule(fns: readonly WatFunction[], memory: { pages: number; maxPages: number; shared: boolean }): Uint8Array<ArrayBuffer> {
  const out: number[] = [0x00, 0x61, 0x73, 0x6d, 0x01, 0x00, 0x00, 0x00];
  const types: number[] = [];
  uleb(fns.length, types);
  for (const f of fns) {
    types.push(0x60);
    uleb(f.params.length, types);
    for (const [, t] of f.params) types.push(VALTYPE[t]);
    if (f.result) types.push(1, VALTYPE[f.result]);
    else types.push(0);
  }
  section(1, types, out);
  const imports: number[] = [1];
  name('env', imports);
  name('memory', imports);
  imports.push(0x02, memory.shared ? 0x03 : 0x01);
  uleb(memory.pages, imports);
  uleb(memory.maxPages, imports);
  section(2, imports, out);
  const funcs: number[] = [];
  uleb(fns.length, funcs);
  fns.forEach((_, i) => uleb(i, funcs));
  section(3, funcs, out);
  const exports: number[] = [];
  uleb(fns.length, exports);
  fns.forEach((f, i) => {
    name(f.name, exports);
    exports.push(0x00);
    uleb(i, exports);
  });
  section(7, exports, out);
  const code: number[] = [];
  uleb(fns.length, code);
  for (const f of fns) {
    const body = assembleBody(f);
    uleb(body.length, code);
    code.push(...body);
  }
  section(10, code, out);
  return new Uint8Array(out);
}
