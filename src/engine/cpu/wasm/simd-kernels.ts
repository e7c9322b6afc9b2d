/**
 * WebAssembly SIMD versions of the CPU backend's dots (a token's, or each token's of a chunk, over cached
 * row blocks) and of absorbed MLA's weighted sum: the same products as makeRowKernels' fused TypeScript
 * dots, four lanes at a time. They run over one WebAssembly.Memory
 * that holds every weight and the matmul scratch (./simd-arena.ts), shared by the pool's threads.
 *
 * Memory layout they assume: [0, 256 KiB) a table of the 65,536 f16 bit patterns as f32 (F16_TABLE,
 * filled by the arena), so a block scale is one load; then tensors and scratch at the arena's offsets.
 *
 * Exports (pointers are byte addresses in the memory; every function loops over `n` rows):
 *   q8_0_rows(w, rowBytes, n, x, y, blocks):  y[r] = Σ_b d_rb · Σ_j q_rbj · x[32b + j]   (Q8_0 rows)
 *   f32_rows(w, n, x, y, k):                  y[r] = Σ_i w[r·k + i] · x[i]               (F32 rows)
 *   q4_k_rows(w, rowBytes, n, x, y, supers):  y[r] = Σ_sub d·sc·Σ q·x − dmin·m·Σ x          (Q4_K rows)
 *   q6_k_rows(w, rowBytes, n, x, y, supers):  y[r] = Σ_16 d·sc·Σ q·x                       (Q6_K rows)
 *   q5_0_rows(w, rowBytes, n, x, y, blocks):  y[r] = Σ_b d·Σ (q − 16)·x, q = 4 bits | 1 bit   (Q5_0 rows)
 *   f32_wsum(base, idx, n, p, out, k):        out[i] = Σ_j p[j] · base[idx[j]·k + i], k % 4 == 0 (attention)
 * Summation order: 4 lanes (a lane sums every 4th product of a block), then the lanes: not the
 * TypeScript order, so results differ from it by f32 rounding (the tests bound it), and like it they
 * never depend on the thread that computed a row.
 */
import { assembleModule, type ValType, type WatFunction } from './wat.ts';

/** Bytes of the f16 → f32 table at address 0. */
export const F16_TABLE_BYTES = 65536 * 4;
/** wasm32's whole address space, in 64 KiB pages. */
export const MAX_PAGES = 65536;

export interface SimdExports {
  q8_0_rows(w: number, rowBytes: number, n: number, x: number, y: number, blocks: number): void;
  f32_rows(w: number, n: number, x: number, y: number, k: number): void;
  q4_k_rows(w: number, rowBytes: number, n: number, x: number, y: number, supers: number): void;
  q6_k_rows(w: number, rowBytes: number, n: number, x: number, y: number, supers: number): void;
  q5_0_rows(w: number, rowBytes: number, n: number, x: number, y: number, blocks: number): void;
  f32_wsum(base: number, idx: number, n: number, p: number, out: number, k: number): void;
}

/** Σ of a v128 of f32 on the stack: (l0 + l1) + (l2 + l3). */
function hsum(v: string): string {
  return `local.get ${v}
f32x4.extract_lane 0
local.get ${v}
f32x4.extract_lane 1
f32.add
local.get ${v}
f32x4.extract_lane 2
local.get ${v}
f32x4.extract_lane 3
f32.add
f32.add`;
}

/** After a row: y += 4 bytes, w += the row's bytes (pushed by `rowBytes`), and loop while rows are left. */
function nextRow(rowBytes: string): string {
  return `local.get $y\ni32.const 4\ni32.add\nlocal.set $y\nlocal.get $w\n${rowBytes}\ni32.add\nlocal.set $w\nlocal.get $n\ni32.const 1\ni32.sub\nlocal.tee $n\nbr_if $row`;
}

/** The f16 at $p + `offset` as f32, on the stack (through the table at address 0). */
function f16At(offset: number): string {
  return `local.get $p\ni32.load16_u offset=${offset} align=1\ni32.const 2\ni32.shl\nf32.load`;
}

/** The 4 x values at $xp + byte offset `off`, on the stack. */
const xAt = (off: number) => `local.get $xp\nv128.load offset=${off} align=4`;

/**
 * The i16 lanes `lane` (low / high 4) of $h as f32, times the f32x4 that `x` pushes: one product
 * vector on the stack (every kernel's inner step).
 */
function laneProduct(lane: string, x: string): string {
  return `local.get $h\ni32x4.extend_${lane}_i16x8_s\nf32x4.convert_i32x4_s\n${x}\nf32x4.mul`;
}

/** Σ over 16 int8 in $q (sign-extended) times 16 f32 of x at $xp + byte offset `off`, added to $dot. */
function dot16(off: number): string {
  const lines: string[] = [];
  for (const wide of ['low', 'high']) {
    lines.push('local.get $q', `i16x8.extend_${wide}_i8x16_s`, 'local.set $h');
    for (const lane of ['low', 'high']) {
      const o = off + 4 * ((wide === 'high' ? 8 : 0) + (lane === 'high' ? 4 : 0));
      lines.push(laneProduct(lane, xAt(o)), 'local.get $dot\nf32x4.add\nlocal.set $dot');
    }
  }
  return lines.join('\n');
}

/**
 * A kernel over rows of blocks: (w, rowBytes, n, x, y, blocks) → y[r] for r < n, each row `blocks` blocks
 * of `blockBytes` bytes over `blockValues` values of x. `block` adds block $p (x at $xp) into $acc (an
 * f32x4 whose lanes are summed at the row's end); `setup` runs once (constants into locals).
 */
function blockRows(o: { name: string; blockBytes: number; blockValues: number; locals: [string, ValType][]; setup?: string; block: string }): WatFunction {
  return {
    name: o.name,
    params: [
      ['w', 'i32'],
      ['rb', 'i32'],
      ['n', 'i32'],
      ['x', 'i32'],
      ['y', 'i32'],
      ['nb', 'i32'],
    ],
    locals: [['p', 'i32'], ['xp', 'i32'], ['left', 'i32'], ['acc', 'v128'], ...o.locals],
    body: `
local.get $n
i32.eqz
if
return
end
${o.setup ?? ''}
loop $row
  local.get $w
  local.set $p
  local.get $x
  local.set $xp
  local.get $nb
  local.set $left
  f32.const 0
  f32x4.splat
  local.set $acc
  loop $block
    ${o.block}
    local.get $p
    i32.const ${o.blockBytes}
    i32.add
    local.set $p
    local.get $xp
    i32.const ${4 * o.blockValues}
    i32.add
    local.set $xp
    local.get $left
    i32.const 1
    i32.sub
    local.tee $left
    br_if $block
  end
  local.get $y
  ${hsum('$acc')}
  f32.store
  ${nextRow('local.get $rb')}
end`,
  };
}

/** acc += $dot · (the f32 on the stack after `scale`) */
function addScaled(scale: string): string {
  return `local.get $dot\n${scale}\nf32x4.splat\nf32x4.mul\nlocal.get $acc\nf32x4.add\nlocal.set $acc`;
}

const ZERO_DOT = 'f32.const 0\nf32x4.splat\nlocal.set $dot';

/**
 * 16 int8 of a Q8_0 block (in $q) times 16 f32 of x at $xp + 4·first: four f32x4 products summed on the
 * stack as ((p0 + p1) + p2) + p3. Q8_0 keeps this order (not dot16's running sum): with it the bundled
 * model's greedy continuations equal llama.cpp's on every prompt (cpu-model.bundled.llama.test.ts), where
 * dot16's order flips one near-tie of the Q8_0-rounded activations.
 */
function q8Half(first: number): string {
  const part = (lane: string, value: number) => laneProduct(lane, xAt(4 * value));
  return [
    'local.get $q\ni16x8.extend_low_i8x16_s\nlocal.set $h',
    part('low', first),
    part('high', first + 4),
    'f32x4.add',
    'local.get $q\ni16x8.extend_high_i8x16_s\nlocal.set $h',
    part('low', first + 8),
    'f32x4.add',
    part('high', first + 12),
    'f32x4.add',
  ].join('\n');
}

/** ggml's block_q8_0: f16 d, 32 int8. */
const Q8_0_ROWS = blockRows({
  name: 'q8_0_rows',
  blockBytes: 34,
  blockValues: 32,
  locals: [
    ['dot', 'v128'],
    ['q', 'v128'],
    ['h', 'v128'],
  ],
  block: [
    'local.get $p\nv128.load offset=2 align=1\nlocal.set $q',
    q8Half(0),
    'local.get $p\nv128.load offset=18 align=1\nlocal.set $q',
    q8Half(16),
    'f32x4.add\nlocal.set $dot',
    addScaled(f16At(0)),
  ].join('\n'),
});

const F32_ROWS: WatFunction = {
  name: 'f32_rows',
  params: [
    ['w', 'i32'],
    ['n', 'i32'],
    ['x', 'i32'],
    ['y', 'i32'],
    ['k', 'i32'],
  ],
  locals: [
    ['i', 'i32'],
    ['k4', 'i32'],
    ['acc', 'v128'],
    ['s', 'f32'],
  ],
  body: `
local.get $n
i32.eqz
if
return
end
;; k4: the values done four at a time
local.get $k
i32.const -4
i32.and
local.set $k4
loop $row
  f32.const 0
  f32x4.splat
  local.set $acc
  i32.const 0
  local.set $i
  block $vdone
    local.get $k4
    i32.eqz
    br_if $vdone
    loop $vec
      local.get $w
      local.get $i
      i32.add
      v128.load align=4
      local.get $x
      local.get $i
      i32.add
      v128.load align=4
      f32x4.mul
      local.get $acc
      f32x4.add
      local.set $acc
      local.get $i
      i32.const 16
      i32.add
      local.tee $i
      local.get $k4
      i32.const 2
      i32.shl
      i32.lt_u
      br_if $vec
    end
  end
  ${hsum('$acc')}
  local.set $s
  ;; the last k mod 4 values
  block $tdone
    loop $tail
      local.get $i
      local.get $k
      i32.const 2
      i32.shl
      i32.ge_u
      br_if $tdone
      local.get $w
      local.get $i
      i32.add
      f32.load
      local.get $x
      local.get $i
      i32.add
      f32.load
      f32.mul
      local.get $s
      f32.add
      local.set $s
      local.get $i
      i32.const 4
      i32.add
      local.set $i
      br $tail
    end
  end
  local.get $y
  local.get $s
  f32.store
  ${nextRow('local.get $k\ni32.const 2\ni32.shl')}
end`,
};

/**
 * Sub-block j's 6-bit scale or min of a Q4_K superblock at $p (ggml's get_scale_min_k4 over the 12
 * scale bytes at p + 4), as an i32 on the stack.
 */
function k4ScaleMin(j: number, min: boolean): string {
  const byte = (i: number) => `local.get $p\ni32.load8_u offset=${4 + i}`;
  if (j < 4) return `${byte(min ? j + 4 : j)}\ni32.const 63\ni32.and`;
  // (q[j+4] & 0xf | (q[j-4] >> 6) << 4) for the scale, (q[j+4] >> 4 | (q[j] >> 6) << 4) for the min
  const low = min ? `${byte(j + 4)}\ni32.const 4\ni32.shr_u` : `${byte(j + 4)}\ni32.const 15\ni32.and`;
  return `${low}\n${byte(min ? j : j - 4)}\ni32.const 6\ni32.shr_u\ni32.const 4\ni32.shl\ni32.or`;
}

/**
 * Sub-block j (32 values) of the Q4_K superblock at $p: its nibbles are the low (even j) or high (odd j)
 * halves of bytes [16 + 32·⌊j/2⌋, +32); x at $xp + 128·j. Adds d·sc·Σ q·x − dmin·m·Σ x to $acc.
 */
function q4kSub(j: number): string {
  const lines = ['f32.const 0', 'f32x4.splat', 'local.tee $dot', 'local.set $xs'];
  for (let half = 0; half < 2; half++) {
    lines.push(`local.get $p`, `v128.load offset=${16 + 32 * (j >> 1) + 16 * half} align=1`);
    lines.push(j % 2 === 0 ? 'local.get $m4\nv128.and' : 'i32.const 4\ni8x16.shr_u');
    lines.push('local.set $q');
    for (const wide of ['low', 'high']) {
      lines.push('local.get $q', `i16x8.extend_${wide}_i8x16_u`, 'local.set $h');
      for (const lane of ['low', 'high']) {
        const off = 4 * (32 * j + 16 * half + (wide === 'high' ? 8 : 0) + (lane === 'high' ? 4 : 0));
        lines.push(
          `${xAt(off)}\nlocal.tee $xv`,
          `local.get $xs\nf32x4.add\nlocal.set $xs`,
          laneProduct(lane, 'local.get $xv'),
          `local.get $dot\nf32x4.add\nlocal.set $dot`,
        );
      }
    }
  }
  lines.push(
    `local.get $dot\nlocal.get $d\n${k4ScaleMin(j, false)}\nf32.convert_i32_s\nf32.mul\nf32x4.splat\nf32x4.mul`,
    `local.get $xs\nlocal.get $dmin\n${k4ScaleMin(j, true)}\nf32.convert_i32_s\nf32.mul\nf32x4.splat\nf32x4.mul`,
    'f32x4.sub',
    'local.get $acc\nf32x4.add\nlocal.set $acc',
  );
  return lines.join('\n');
}

const Q4_K_ROWS = blockRows({
  name: 'q4_k_rows',
  blockBytes: 144,
  blockValues: 256,
  locals: [
    ['d', 'f32'],
    ['dmin', 'f32'],
    ['dot', 'v128'],
    ['xs', 'v128'],
    ['q', 'v128'],
    ['h', 'v128'],
    ['xv', 'v128'],
    ['m4', 'v128'],
  ],
  setup: 'i32.const 15\ni8x16.splat\nlocal.set $m4',
  // d and dmin: f16 at bytes 0 and 2
  block: [`${f16At(0)}\nlocal.set $d`, `${f16At(2)}\nlocal.set $dmin`, ...[0, 1, 2, 3, 4, 5, 6, 7].map(q4kSub)].join('\n'),
});

/**
 * Half `n` (128 values) of the Q6_K superblock at $p, lanes l = 16·g .. 16·g + 15 of its 32: four 16-value
 * groups (value 128n + l + 32·i for i = 0..3), each 4 low bits from ql, 2 high bits from qh, minus 32,
 * times its int8 scale and d. ggml's layout: ql at 0, qh at 128, scales at 192, d at 208.
 */
function q6kQuarter(n: number, g: number): string {
  const ql = 64 * n + 16 * g;
  const qh = 128 + 32 * n + 16 * g;
  const lines = [`local.get $p\nv128.load offset=${ql} align=1\nlocal.set $a`, `local.get $p\nv128.load offset=${ql + 32} align=1\nlocal.set $b`];
  lines.push(`local.get $p\nv128.load offset=${qh} align=1\nlocal.set $hh`);
  // the 2 high bits of value i sit at bits 2i..2i+1 of qh: moved to bits 4..5
  const high = ['i32.const 4\ni8x16.shl', 'i32.const 2\ni8x16.shl', '', 'i32.const 2\ni8x16.shr_u'];
  for (let i = 0; i < 4; i++) {
    const low = i < 2 ? 'local.get $m4\nv128.and' : 'i32.const 4\ni8x16.shr_u';
    lines.push(
      `local.get ${i % 2 === 0 ? '$a' : '$b'}\n${low}`,
      `local.get $hh\n${high[i]}\nlocal.get $m30\nv128.and\nv128.or`,
      'local.get $m32\ni8x16.sub\nlocal.set $q',
      ZERO_DOT,
      dot16(4 * (128 * n + 32 * i + 16 * g)),
      // × d · scale (int8 at 192 + 8n + g + 2i)
      addScaled(`local.get $d\nlocal.get $p\ni32.load8_s offset=${192 + 8 * n + g + 2 * i}\nf32.convert_i32_s\nf32.mul`),
    );
  }
  return lines.join('\n');
}

const Q6_K_ROWS = blockRows({
  name: 'q6_k_rows',
  blockBytes: 210,
  blockValues: 256,
  locals: [
    ['d', 'f32'],
    ['dot', 'v128'],
    ['q', 'v128'],
    ['h', 'v128'],
    ['a', 'v128'],
    ['b', 'v128'],
    ['hh', 'v128'],
    ['m4', 'v128'],
    ['m30', 'v128'],
    ['m32', 'v128'],
  ],
  setup: 'i32.const 15\ni8x16.splat\nlocal.set $m4\ni32.const 48\ni8x16.splat\nlocal.set $m30\ni32.const 32\ni8x16.splat\nlocal.set $m32',
  block: [`${f16At(208)}\nlocal.set $d`, q6kQuarter(0, 0), q6kQuarter(0, 1), q6kQuarter(1, 0), q6kQuarter(1, 1)].join('\n'),
});

/**
 * The fifth bits of 16 Q5_0 values (bits `first`..`first + 15` of qh, splatted in $qh) as 0x10 / 0 per byte
 * lane: each lane takes its qh byte, tests its bit, and the all-ones of a match is cut to 0x10.
 */
function q5High(first: number): string {
  const b = first / 8;
  const pick = [...Array(8).fill(b), ...Array(8).fill(b + 1)].join(' ');
  return `local.get $qh
local.get $qh
i8x16.shuffle ${pick}
local.get $bit
v128.and
local.get $bit
i8x16.eq
local.get $m10
v128.and`;
}

/** ggml's block_q5_0: f16 d, u32 qh (bit j: value j's fifth bit), 16 bytes of nibbles (values j, j + 16). */
const Q5_0_ROWS = blockRows({
  name: 'q5_0_rows',
  blockBytes: 22,
  blockValues: 32,
  locals: [
    ['dot', 'v128'],
    ['q', 'v128'],
    ['h', 'v128'],
    ['qs', 'v128'],
    ['qh', 'v128'],
    ['m4', 'v128'],
    ['m10', 'v128'],
    ['bit', 'v128'],
  ],
  setup:
    'i32.const 15\ni8x16.splat\nlocal.set $m4\ni32.const 16\ni8x16.splat\nlocal.set $m10\nv128.const 1 2 4 8 16 32 64 128 1 2 4 8 16 32 64 128\nlocal.set $bit',
  block: [
    'local.get $p\nv128.load offset=6 align=1\nlocal.set $qs',
    'local.get $p\ni32.load offset=2 align=1\ni32x4.splat\nlocal.set $qh',
    ZERO_DOT,
    // q = (nibble | fifth bit) − 16: values 0..15 from the low nibbles, 16..31 from the high ones
    `local.get $qs\nlocal.get $m4\nv128.and\n${q5High(0)}\nv128.or\nlocal.get $m10\ni8x16.sub\nlocal.set $q`,
    dot16(0),
    `local.get $qs\ni32.const 4\ni8x16.shr_u\n${q5High(16)}\nv128.or\nlocal.get $m10\ni8x16.sub\nlocal.set $q`,
    dot16(64),
    addScaled(f16At(0)),
  ].join('\n'),
});

/**
 * Attention's weighted sum of cached rows: out [k] f32 = Σ_j p[j] · row idx[j] of the rows at `base`
 * (k f32 each), j in order, each partial sum rounded to f32; idx i32 [n], p f32 [n]; k a multiple of 4.
 */
const F32_WSUM: WatFunction = {
  name: 'f32_wsum',
  params: [
    ['base', 'i32'],
    ['idx', 'i32'],
    ['n', 'i32'],
    ['p', 'i32'],
    ['out', 'i32'],
    ['k', 'i32'],
  ],
  locals: [
    ['i', 'i32'],
    ['kb', 'i32'],
    ['row', 'i32'],
    ['pj', 'v128'],
  ],
  body: `
local.get $k
i32.const 2
i32.shl
local.set $kb
;; out = 0
i32.const 0
local.set $i
block $zdone
  loop $zero
    local.get $i
    local.get $kb
    i32.ge_u
    br_if $zdone
    local.get $out
    local.get $i
    i32.add
    f32.const 0
    f32x4.splat
    v128.store align=4
    local.get $i
    i32.const 16
    i32.add
    local.set $i
    br $zero
  end
end
block $done
  loop $pos
    local.get $n
    i32.eqz
    br_if $done
    ;; row = base + idx[j] · k · 4; pj = splat(p[j])
    local.get $base
    local.get $idx
    i32.load
    local.get $kb
    i32.mul
    i32.add
    local.set $row
    local.get $p
    f32.load
    f32x4.splat
    local.set $pj
    i32.const 0
    local.set $i
    block $rdone
      loop $vec
        local.get $i
        local.get $kb
        i32.ge_u
        br_if $rdone
        local.get $out
        local.get $i
        i32.add
        local.get $out
        local.get $i
        i32.add
        v128.load align=4
        local.get $row
        local.get $i
        i32.add
        v128.load align=4
        local.get $pj
        f32x4.mul
        f32x4.add
        v128.store align=4
        local.get $i
        i32.const 16
        i32.add
        local.set $i
        br $vec
      end
    end
    local.get $idx
    i32.const 4
    i32.add
    local.set $idx
    local.get $p
    i32.const 4
    i32.add
    local.set $p
    local.get $n
    i32.const 1
    i32.sub
    local.set $n
    br $pos
  end
end`,
};

export const SIMD_FUNCTIONS: readonly WatFunction[] = [Q8_0_ROWS, F32_ROWS, Q4_K_ROWS, Q6_K_ROWS, Q5_0_ROWS, F32_WSUM];

/** The module's bytes; `shared` must match the Memory it is instantiated with. */
export function simdModuleBytes(shared: boolean): Uint8Array<ArrayBuffer> {
  return assembleModule(SIMD_FUNCTIONS, { pages: F16_TABLE_BYTES / 65536, maxPages: MAX_PAGES, shared });
}

const compiled = new Map<boolean, Promise<WebAssembly.Module | null>>();

/**
 * The compiled module, or null where this engine has no WebAssembly SIMD (or no shared memories when
 * `shared`): then the TypeScript kernels run. Compiled once per process and flavour.
 */
export function simdModule(shared: boolean): Promise<WebAssembly.Module | null> {
  let m = compiled.get(shared);
  if (!m) {
    m = (async () => {
      if (typeof WebAssembly === 'undefined') return null;
      const bytes = simdModuleBytes(shared);
      if (!WebAssembly.validate(bytes)) return null;
      return WebAssembly.compile(bytes);
    })();
    compiled.set(shared, m);
  }
  return m;
}
