// The shipped WebAssembly matcher (src/search/multifind-wasm.ts, base64) must be exactly what its source
// src/search/multifind.wat compiles to: an edit to the .wat without `node scripts/build-wasm.mjs` fails here.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import wabtInit from 'wabt';
import { describe, expect, it } from 'vitest';
import { MULTIFIND_WASM_BASE64 } from '../src/search/multifind-wasm.js';

const WAT = join(import.meta.dirname, '..', 'src', 'search', 'multifind.wat');

describe('src/search/multifind-wasm.ts', () => {
  it('holds the bytes that multifind.wat compiles to (same wabt options as scripts/build-wasm.mjs)', async () => {
    const wabt = await wabtInit();
    const mod = wabt.parseWat('multifind.wat', readFileSync(WAT, 'utf8'), { simd: true });
    mod.validate();
    const { buffer } = mod.toBinary({ canonicalize_lebs: true });
    mod.destroy();
    const shipped = Buffer.from(MULTIFIND_WASM_BASE64, 'base64');
    expect(shipped.length).toBeGreaterThan(1000);
    expect(Buffer.from(buffer).equals(shipped), 'run `node scripts/build-wasm.mjs` after editing multifind.wat').toBe(true);
  });
});
