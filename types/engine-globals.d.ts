// The globals the engine core may use (tsconfig.core.json): the ones that Node (20 and later),
// browsers' pages and their Web Workers all have, typed as narrowly as the core uses them.
// Anything else a host offers (process, Buffer, timers, the DOM) the core must ask of
// src/platform/platform.ts. The full build type-checks the same code against @types/node.

declare class TextEncoder {
  encode(input?: string): Uint8Array;
}

declare class TextDecoder {
  constructor(label?: string, options?: { fatal?: boolean; ignoreBOM?: boolean });
  decode(input?: Uint8Array): string;
}

declare var performance: { now(): number };

declare class AbortSignal {
  readonly aborted: boolean;
  readonly reason: unknown;
}
