/**
 * The few Web-platform globals the core relies on. Every host provides them (browsers,
 * workers and Node ≥ 18), but the ES library types do not declare them; declaring them
 * here keeps DOM and Node types out of the core's compilation.
 */
declare class TextDecoder {
  constructor(label?: string, options?: { fatal?: boolean; ignoreBOM?: boolean });
  decode(input?: Uint8Array, options?: { stream?: boolean }): string;
  /** The encoding's canonical name ("utf-8", "windows-1252"). */
  readonly encoding: string;
}
declare class TextEncoder {
  encode(input?: string): Uint8Array<ArrayBuffer>;
}
interface AbortSignal {
  readonly aborted: boolean;
  readonly reason: unknown;
  throwIfAborted(): void;
  addEventListener(type: 'abort', listener: () => void, options?: { once?: boolean }): void;
  removeEventListener(type: 'abort', listener: () => void): void;
}
/** Node ≥ 20.3 and every current browser have `any`. */
declare var AbortSignal: {
  prototype: AbortSignal;
  any(signals: AbortSignal[]): AbortSignal;
};
declare class AbortController {
  readonly signal: AbortSignal;
  abort(reason?: unknown): void;
}
declare function setTimeout(handler: () => void, milliseconds: number): unknown;
declare function clearTimeout(id: unknown): void;
/** The part of WebAssembly the tree kernel uses (src/core/model/tree/ (margins.ts)). */
declare namespace WebAssembly {
  class Module {
    constructor(bytes: Uint8Array);
  }
  class Instance {
    constructor(module: Module, imports: Record<string, Record<string, unknown>>);
    readonly exports: Record<string, unknown>;
  }
  class Memory {
    constructor(descriptor: { initial: number; maximum?: number });
    readonly buffer: ArrayBuffer;
    /** Adds `pages` pages of 64 KiB (the old buffer is detached). */
    grow(pages: number): number;
  }
}
