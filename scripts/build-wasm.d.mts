/** The generated TypeScript module (src/core/model/tree-kernel-wasm.ts) for the texts of tree-kernel-f32.wat, -f64.wat and -f32s.wat. */
export function kernelModuleSource(f32Text: string, f64Text: string, f32sText: string): Promise<string>;
/** The generated TypeScript module (src/core/analyses/explain/treeshap/interventional-wasm.ts) for the text of interventional.wat. */
export function interventionalModuleSource(watText: string): Promise<string>;
/** The generated TypeScript module (src/core/analyses/robustness/neighbours-wasm.ts) for the text of neighbours.wat. */
export function neighboursModuleSource(watText: string): Promise<string>;
