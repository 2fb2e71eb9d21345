/** Rows walked side by side by the wide kernels. */
export const KERNEL_LANES: number;
/** The text of src/core/model/tree-kernel-f32.wat or tree-kernel-f64.wat. */
export function treeKernelWat(type: 'f32' | 'f64'): string;
