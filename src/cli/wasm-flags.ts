// Relaxed SIMD for the CLI's process (the main thread and every worker thread: V8's flags are per process). The
// search kernel's nibble lookups compile to one pshufb each in its relaxed build, three x64 instructions in the plain
// one (src/search/multifind.ts); Node 22 and later accept relaxed SIMD by default, Node 20 behind a flag that V8
// reads when a module is compiled, so it takes effect when set at run time (as heap.ts's setting does). Set only
// where the engine lacks it: V8 prints an error for a flag it does not know. The library leaves its host process's
// flags alone (the plain build runs there on Node 20).
import { setFlagsFromString } from 'node:v8';
import { RELAXED_SIMD_PROBE_BASE64 } from '../search/multifind-wasm.js';

/** Called once, first thing in the CLI, before any kernel is compiled. */
export function enableRelaxedSimd(): void {
  // Typed locally: the project's lib settings do not include the DOM's WebAssembly declarations.
  const wasm = (globalThis as { WebAssembly?: { validate(bytes: Uint8Array): boolean } }).WebAssembly;
  if (wasm && !wasm.validate(Buffer.from(RELAXED_SIMD_PROBE_BASE64, 'base64'))) setFlagsFromString('--experimental-wasm-relaxed-simd');
}
