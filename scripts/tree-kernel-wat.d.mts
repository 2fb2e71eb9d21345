/** Rows walked side by side by the wide kernels. */
export const KERNEL_LANES: number;
/** The text of src/core/model/tree-kernel-f32.wat, -f32s.wat (float32 sums) or -f64.wat. */
export function treeKernelWat(kind: 'f32' | 'f32s' | 'f64'): string;
