/** Rows walked side by side by the wide kernels. */
export const KERNEL_LANES: number;
/** The text of src/core/model/tree-kernel.wat. */
export function treeKernelWat(): string;
