// The few WebAssembly JS API entry points lstm uses, typed here because the project
// compiles against ES2022 + @types/node, which declare no `WebAssembly` global.
// Declaring them locally (instead of a global .d.ts) cannot clash with a lib that
// does declare it.

export interface WasmMemory {
  readonly buffer: ArrayBuffer | SharedArrayBuffer;
  grow(deltaPages: number): number;
}

export interface WasmModule { readonly __wasmModule?: never }

export interface WasmInstance { readonly exports: Record<string, unknown> }

interface WasmApi {
  Memory: new (desc: { initial: number; maximum?: number; shared?: boolean }) => WasmMemory;
  Module: new (bytes: Uint8Array) => WasmModule;
  Instance: new (module: WasmModule, imports: Record<string, Record<string, unknown>>) => WasmInstance;
  compile(bytes: Uint8Array): Promise<WasmModule>;
  instantiate(module: WasmModule, imports: Record<string, Record<string, unknown>>): Promise<WasmInstance>;
  validate(bytes: Uint8Array): boolean;
}

export const WA: WasmApi = (globalThis as unknown as { WebAssembly: WasmApi }).WebAssembly;

export const PAGE_BYTES = 65536;

/** Whether this engine accepts relaxed-SIMD instructions (Node 20 needs a flag). */
export function relaxedSimdSupported(probe: Uint8Array): boolean {
  try {
    return WA.validate(probe);
  } catch {
    return false;
  }
}
