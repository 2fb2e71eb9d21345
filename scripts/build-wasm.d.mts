/** The generated TypeScript module (src/core/model/tree-kernel-wasm.ts) for tree-kernel.wat's text. */
export function kernelModuleSource(watText: string): Promise<string>;
