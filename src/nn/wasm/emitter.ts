// A tiny WebAssembly binary emitter: enough of the format to write numeric kernels
// (i32 address arithmetic, f32 and f32x4 SIMD arithmetic, loops, calls through a table)
// and nothing more. It exists so that lstm needs no assembler, no build step beyond tsc
// and no binary blobs in the repository: the kernels are generated as bytes at start-up,
// which also lets one generator emit many variants (tile sizes, edge tiles, FMA or not).
//
// The format in one paragraph: a module is the magic number and version followed by
// numbered sections, each a byte count and a vector of entries. Integers are LEB128.
// A function body is a list of local declarations followed by a stack-machine
// instruction stream ending in `end` (0x0b). SIMD instructions are the prefix 0xfd
// followed by a LEB128 opcode.
//
// The builder only appends bytes; it does not validate. `new WebAssembly.Module(bytes)`
// does, and its error message names the function and byte offset of any mistake.

export type ValType = 'i32' | 'i64' | 'f32' | 'f64' | 'v128';

const VALTYPE: Record<ValType, number> = { i32: 0x7f, i64: 0x7e, f32: 0x7d, f64: 0x7c, v128: 0x7b };

function uleb(out: number[], n: number): void {
  if (n < 0 || !Number.isInteger(n)) throw new Error(`uleb: bad value ${n}`);
  do {
    let b = n % 128;
    n = Math.floor(n / 128);
    if (n > 0) b |= 0x80;
    out.push(b);
  } while (n > 0);
}

function sleb32(out: number[], n: number): void {
  n |= 0;
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

function append(out: number[], bytes: readonly number[]): void {
  // A loop rather than push(...bytes): spread arguments have an engine limit.
  for (let k = 0; k < bytes.length; k++) out.push(bytes[k]);
}

function name(out: number[], s: string): void {
  const bytes = new TextEncoder().encode(s);
  uleb(out, bytes.length);
  for (const b of bytes) out.push(b);
}

/** Memory access immediates: alignment hint (log2 bytes) and a constant byte offset
 *  added to the address operand. Constant offsets are free on every engine, so the
 *  kernels address a tile as one pointer plus offsets. */
interface MemArg { offset?: number; align?: number }

/** One function being written. Methods append instructions and return `this` so a
 *  sequence of stack operations reads top to bottom like assembly. */
export class Fn {
  readonly code: number[] = [];
  private readonly localTypes: ValType[] = [];

  constructor(
    readonly index: number,
    readonly name: string,
    readonly params: readonly ValType[],
    readonly results: readonly ValType[],
    readonly typeIndex: number,
    readonly exported: boolean,
  ) {}

  /** Declares a new local and returns its index (parameters come first). */
  local(type: ValType): number {
    this.localTypes.push(type);
    return this.params.length + this.localTypes.length - 1;
  }

  /** Bytes of the function body: run-length local declarations, code, `end`. */
  body(): number[] {
    const out: number[] = [];
    const runs: [number, ValType][] = [];
    for (const t of this.localTypes) {
      const last = runs[runs.length - 1];
      if (last && last[1] === t) last[0]++;
      else runs.push([1, t]);
    }
    uleb(out, runs.length);
    for (const [count, t] of runs) {
      uleb(out, count);
      out.push(VALTYPE[t]);
    }
    append(out, this.code);
    out.push(0x0b);
    return out;
  }

  private op(...bytes: number[]): this {
    this.code.push(...bytes);
    return this;
  }
  private simd(opcode: number): this {
    this.code.push(0xfd);
    uleb(this.code, opcode);
    return this;
  }
  private memarg(m: MemArg | undefined, naturalAlign: number): this {
    uleb(this.code, m?.align ?? naturalAlign);
    uleb(this.code, m?.offset ?? 0);
    return this;
  }

  // --- control -------------------------------------------------------------------
  /** `block … end`: a `br` to it jumps forward to its end. */
  block(body: () => void): this {
    this.op(0x02, 0x40);
    body();
    return this.op(0x0b);
  }
  /** `loop … end`: a `br` to it jumps back to its start. */
  loop(body: () => void): this {
    this.op(0x03, 0x40);
    body();
    return this.op(0x0b);
  }
  /** `if … (else …) end`, consuming an i32 condition. */
  if(then: () => void, otherwise?: () => void): this {
    this.op(0x04, 0x40);
    then();
    if (otherwise) {
      this.op(0x05);
      otherwise();
    }
    return this.op(0x0b);
  }
  br(depth: number): this { this.op(0x0c); uleb(this.code, depth); return this; }
  brIf(depth: number): this { this.op(0x0d); uleb(this.code, depth); return this; }
  return(): this { return this.op(0x0f); }
  call(fn: Fn): this { this.op(0x10); uleb(this.code, fn.index); return this; }
  /** Calls table[i32 on top of stack] with the given signature (type index). */
  callIndirect(typeIndex: number): this { this.op(0x11); uleb(this.code, typeIndex); return this.op(0x00); }
  drop(): this { return this.op(0x1a); }
  /** Pops c, b, a: pushes c ? a : b. */
  select(): this { return this.op(0x1b); }

  // --- locals --------------------------------------------------------------------
  get(i: number): this { this.op(0x20); uleb(this.code, i); return this; }
  set(i: number): this { this.op(0x21); uleb(this.code, i); return this; }
  tee(i: number): this { this.op(0x22); uleb(this.code, i); return this; }

  // --- i32 -----------------------------------------------------------------------
  i32(n: number): this { this.op(0x41); sleb32(this.code, n); return this; }
  i32Load(m?: MemArg): this { return this.op(0x28).memarg(m, 2); }
  i32Store(m?: MemArg): this { return this.op(0x36).memarg(m, 2); }
  eqz(): this { return this.op(0x45); }
  eq(): this { return this.op(0x46); }
  ne(): this { return this.op(0x47); }
  ltS(): this { return this.op(0x48); }
  ltU(): this { return this.op(0x49); }
  gtS(): this { return this.op(0x4a); }
  leS(): this { return this.op(0x4c); }
  geS(): this { return this.op(0x4e); }
  geU(): this { return this.op(0x4f); }
  add(): this { return this.op(0x6a); }
  sub(): this { return this.op(0x6b); }
  mul(): this { return this.op(0x6c); }
  divU(): this { return this.op(0x6e); }
  remU(): this { return this.op(0x70); }
  and(): this { return this.op(0x71); }
  or(): this { return this.op(0x72); }
  shl(): this { return this.op(0x74); }
  shrU(): this { return this.op(0x76); }

  /** local[i] += n (a common pointer bump). */
  inc(i: number, n: number): this { return this.get(i).i32(n).add().set(i); }
  /** local[i] += local[j]. */
  incBy(i: number, j: number): this { return this.get(i).get(j).add().set(i); }

  // --- f32 -----------------------------------------------------------------------
  f32Load(m?: MemArg): this { return this.op(0x2a).memarg(m, 2); }
  f32Store(m?: MemArg): this { return this.op(0x38).memarg(m, 2); }
  f32Const(x: number): this {
    const b = new Uint8Array(new Float32Array([x]).buffer);
    return this.op(0x43, ...b);
  }
  f32Add(): this { return this.op(0x92); }
  f32Mul(): this { return this.op(0x94); }

  // --- v128 / f32x4 ----------------------------------------------------------------
  v128Load(m?: MemArg): this { return this.simd(0x00).memarg(m, 4); }
  /** Loads one f32 and broadcasts it to all four lanes. */
  v128Load32Splat(m?: MemArg): this { return this.simd(0x09).memarg(m, 2); }
  v128Store(m?: MemArg): this { return this.simd(0x0b).memarg(m, 4); }
  /** Stores one lane of a v128 as an f32 (used for the ragged right edge of a tile). */
  v128Store32Lane(lane: number, m?: MemArg): this { this.simd(0x5a).memarg(m, 2); return this.op(lane); }
  v128Zero(): this { return this.i32x4Const(0); }
  /** i8x16.shuffle with 16 byte-lane indices (0–15 first operand, 16–31 second). */
  shuffle(lanes: readonly number[]): this {
    if (lanes.length !== 16) throw new Error('shuffle needs 16 lanes');
    this.simd(0x0d);
    this.code.push(...lanes);
    return this;
  }
  /** Shuffle of two f32x4 by 32-bit lane indices (0–3 first operand, 4–7 second). */
  shuffle32(l0: number, l1: number, l2: number, l3: number): this {
    const bytes: number[] = [];
    for (const l of [l0, l1, l2, l3]) bytes.push(4 * l, 4 * l + 1, 4 * l + 2, 4 * l + 3);
    return this.shuffle(bytes);
  }
  /** v128.const with the 16 bytes of four lanes. */
  private v128Const(lanes: Float32Array | Int32Array): this {
    this.simd(0x0c);
    for (const byte of new Uint8Array(lanes.buffer)) this.code.push(byte);
    return this;
  }
  /** v128.const with the same f32 in all four lanes. */
  f32x4Const(x: number): this { return this.v128Const(new Float32Array([x, x, x, x])); }
  /** v128.const with the same i32 in all four lanes. */
  i32x4Const(x: number): this { return this.i32x4ConstLanes(x, x, x, x); }
  /** v128.const with four given i32 lanes. */
  i32x4ConstLanes(l0: number, l1: number, l2: number, l3: number): this { return this.v128Const(new Int32Array([l0, l1, l2, l3])); }
  i32x4Splat(): this { return this.simd(0x11); }
  /** Pops b, a: lanes of all ones where a < b (signed), else zero. */
  i32x4LtS(): this { return this.simd(0x39); }
  f32x4Splat(): this { return this.simd(0x13); }
  f32x4ExtractLane(lane: number): this { this.simd(0x1f); return this.op(lane); }
  f32x4Lt(): this { return this.simd(0x43); }
  f32x4Abs(): this { return this.simd(0xe0); }
  f32x4Neg(): this { return this.simd(0xe1); }
  f32x4Nearest(): this { return this.simd(0x6a); }
  f32x4Div(): this { return this.simd(0xe7); }
  f32x4Min(): this { return this.simd(0xe8); }
  f32x4Max(): this { return this.simd(0xe9); }
  /** Pseudo-minimum: pops b, a; pushes b < a ? b : a (one instruction on x64, unlike min's NaN and ±0 rules). */
  f32x4Pmin(): this { return this.simd(0xea); }
  /** Pseudo-maximum: pops b, a; pushes a < b ? b : a. */
  f32x4Pmax(): this { return this.simd(0xeb); }
  v128And(): this { return this.simd(0x4e); }
  v128Xor(): this { return this.simd(0x51); }
  /** Pops mask, b, a: lanes of a where mask bits are 1, of b where 0. */
  v128Bitselect(): this { return this.simd(0x52); }
  i32x4Shl(): this { return this.simd(0xab); }
  i32x4Add(): this { return this.simd(0xae); }
  i32x4TruncSatF32x4S(): this { return this.simd(0xf8); }
  /** f32x4 of the two f64 lanes rounded to f32 (as a Float32Array store rounds), then two zeros. */
  f32x4DemoteF64x2Zero(): this { return this.simd(0x5e); }
  /** f64x2 of the two low f32 lanes. */
  f64x2PromoteLowF32x4(): this { return this.simd(0x5f); }
  f64x2Splat(): this { return this.simd(0x14); }
  f64x2Sqrt(): this { return this.simd(0xef); }
  f64x2Add(): this { return this.simd(0xf0); }
  f64x2Sub(): this { return this.simd(0xf1); }
  f64x2Mul(): this { return this.simd(0xf2); }
  f64x2Div(): this { return this.simd(0xf3); }
  f64Load(m?: MemArg): this { return this.op(0x2b).memarg(m, 3); }
  f32x4Add(): this { return this.simd(0xe4); }
  f32x4Sub(): this { return this.simd(0xe5); }
  f32x4Mul(): this { return this.simd(0xe6); }
  /** Relaxed SIMD: a·b + c, fused or not at the engine's choice (fixed per machine). */
  f32x4RelaxedMadd(): this { return this.simd(0x105); }
}

interface ImportedMemory { module: string; field: string; min: number; max: number; shared: boolean }

/** Collects function types, functions, one optional function table and one imported
 *  memory, and serialises them into module bytes. */
export class ModuleBuilder {
  private readonly types: string[] = [];
  private readonly typeBytes: number[][] = [];
  private readonly fns: Fn[] = [];
  private tableFns: Fn[] = [];
  private memory: ImportedMemory | null = null;

  /** Index of the function type (params) → (results), registering it on first use. */
  type(params: readonly ValType[], results: readonly ValType[]): number {
    const key = `${params.join(',')}->${results.join(',')}`;
    let i = this.types.indexOf(key);
    if (i < 0) {
      const b: number[] = [0x60];
      uleb(b, params.length);
      for (const p of params) b.push(VALTYPE[p]);
      uleb(b, results.length);
      for (const r of results) b.push(VALTYPE[r]);
      i = this.types.length;
      this.types.push(key);
      this.typeBytes.push(b);
    }
    return i;
  }

  importMemory(mem: ImportedMemory): void {
    this.memory = mem;
  }

  /** Declares a function; its body is written through the returned Fn. */
  fn(name: string, params: readonly ValType[], results: readonly ValType[] = [], exported = true): Fn {
    const f = new Fn(this.fns.length, name, params, results, this.type(params, results), exported);
    this.fns.push(f);
    return f;
  }

  /** Fills the module's function table (index k calls fns[k]). */
  table(fns: Fn[]): void {
    this.tableFns = fns;
  }

  build(): Uint8Array {
    const out: number[] = [0x00, 0x61, 0x73, 0x6d, 0x01, 0x00, 0x00, 0x00];
    const section = (id: number, entries: number[][]): void => {
      if (entries.length === 0) return;
      const body: number[] = [];
      uleb(body, entries.length);
      for (const e of entries) append(body, e);
      out.push(id);
      uleb(out, body.length);
      append(out, body);
    };

    section(1, this.typeBytes);
    if (this.memory) {
      const m = this.memory;
      const e: number[] = [];
      name(e, m.module);
      name(e, m.field);
      e.push(0x02, m.shared ? 0x03 : 0x01);
      uleb(e, m.min);
      uleb(e, m.max);
      section(2, [e]);
    }
    section(3, this.fns.map((f) => { const e: number[] = []; uleb(e, f.typeIndex); return e; }));
    if (this.tableFns.length > 0) {
      const e: number[] = [0x70, 0x00];
      uleb(e, this.tableFns.length);
      section(4, [e]);
    }
    section(7, this.fns.filter((f) => f.exported).map((f) => {
      const e: number[] = [];
      name(e, f.name);
      e.push(0x00);
      uleb(e, f.index);
      return e;
    }));
    if (this.tableFns.length > 0) {
      const e: number[] = [0x00, 0x41, 0x00, 0x0b];
      uleb(e, this.tableFns.length);
      for (const f of this.tableFns) uleb(e, f.index);
      section(9, [e]);
    }
    section(10, this.fns.map((f) => {
      const body = f.body();
      const e: number[] = [];
      uleb(e, body.length);
      append(e, body);
      return e;
    }));
    return new Uint8Array(out);
  }
}
