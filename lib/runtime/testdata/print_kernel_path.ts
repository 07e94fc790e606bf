/** Prints, as one JSON line, the kernel path the wasm backend took in this process. */
import { initBackend } from "../backend.ts";

const info = await initBackend({ backend: "wasm", announce: false });
console.log(JSON.stringify(info.kernels));
