// How far V8 lets the heap grow between full garbage collections, for the CLI's process (the main thread and every
// worker thread: V8's flags are per process).
//
// Left to itself, V8 lets the old generation grow to up to 4x the live heap before collecting it when its heap limit
// is the default (~4 GB): a 200,000-file host, whose live data is ~25-60 MB, peaked at 360 MB RSS, and the garbage of
// every swept file (heads, decoded text) piled up the same way in each worker. `--max-old-space-size` would cap that,
// but it only works on Node's command line (not from a running process, so not through the npm bin shim or the
// single-file executable) and turns a big scan into an out-of-memory crash. A fixed growth factor is read by V8 at
// every full collection, takes effect when set at run time, and sets no limit: a scan whose live data is large still
// completes, with more collections.
import { setFlagsFromString } from 'node:v8';

/** Heap growth allowed between full collections, in percent of what the last one left (V8's own: up to 300). */
export const HEAP_GROWING_PERCENT = 50;

/** Called once, first thing in the CLI (the library leaves its host process's settings alone). */
export function boundHeapGrowth(): void {
  setFlagsFromString(`--heap-growing-percent=${HEAP_GROWING_PERCENT}`);
}
