/** Gradient kernels the wasm backend lacks (work in progress). */
export function registerWasmGradientKernels(): void {}
