/** The generated TypeScript module (src/core/model/tree-kernel-wasm.ts) for the texts of tree-kernel-f32.wat and tree-kernel-f64.wat. */
export function kernelModuleSource(f32Text: string, f64Text: string): Promise<string>;
