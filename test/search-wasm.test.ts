// The shipped WebAssembly matcher (src/search/multifind-wasm.ts, base64) must be exactly what its source
// src/search/multifind.wat compiles to: an edit to the .wat without `node scripts/build-wasm.mjs` fails here. Its
// relaxed build (every i8x16.swizzle as i8x16.relaxed_swizzle) gives the same results only while every lane index
// is below 16, and the CLI must be able to run it on Node 20.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import wabtInit from 'wabt';
import { describe, expect, it } from 'vitest';
import { MULTIFIND_RELAXED_WASM_BASE64, MULTIFIND_WASM_BASE64 } from '../src/search/multifind-wasm.js';
import { enableRelaxedSimd } from '../src/cli/wasm-flags.js';

const WAT = join(import.meta.dirname, '..', 'src', 'search', 'multifind.wat');
const text = readFileSync(WAT, 'utf8');

describe('src/search/multifind-wasm.ts', () => {
  it('holds the bytes that multifind.wat compiles to, plain and relaxed (same wabt options as scripts/build-wasm.mjs)', async () => {
    const wabt = await wabtInit();
    const compile = (wat: string) => {
      const mod = wabt.parseWat('multifind.wat', wat, { simd: true, relaxed_simd: true });
      mod.validate();
      const { buffer } = mod.toBinary({ canonicalize_lebs: true });
      mod.destroy();
      return Buffer.from(buffer);
    };
    const hint = 'run `node scripts/build-wasm.mjs` after editing multifind.wat';
    const plain = Buffer.from(MULTIFIND_WASM_BASE64, 'base64');
    expect(plain.length).toBeGreaterThan(1000);
    expect(compile(text).equals(plain), hint).toBe(true);
    expect(compile(text.replaceAll('i8x16.swizzle', 'i8x16.relaxed_swizzle')).equals(Buffer.from(MULTIFIND_RELAXED_WASM_BASE64, 'base64')), hint).toBe(true);
  });

  it('indexes every swizzle with a nibble (masked with 15), where the relaxed swizzle gives the same bytes', () => {
    const code = text.replace(/;;.*$/gm, '');
    const uses = [...code.matchAll(/i8x16\.swizzle \(local\.get \$\w+\) (\((?:local\.get \$[lh]|v128\.and .*?\(local\.get \$nib\))\))/g)];
    expect(uses.length).toBe((code.match(/i8x16\.swizzle/g) ?? []).length);
    expect(uses.length).toBeGreaterThan(30);
    // $l and $h are only ever set to a masked value, and $nib is 15 in every lane.
    for (const m of code.matchAll(/\(local\.set \$([lh]|nib) (.*)$/gm)) {
      expect(m[2], m[0]).toMatch(m[1] === 'nib' ? /^\(i8x16\.splat \(i32\.const 15\)\)\)$/ : /^\(v128\.and .*\(local\.get \$nib\)\)\)$/);
    }
  });

  it('runs relaxed in the CLI: after enableRelaxedSimd (cli/main.ts) the engine accepts the relaxed build', () => {
    enableRelaxedSimd();
    expect(WebAssembly.validate(Buffer.from(MULTIFIND_RELAXED_WASM_BASE64, 'base64'))).toBe(true);
  });
});
