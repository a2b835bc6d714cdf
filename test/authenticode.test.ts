// Authenticode reading (PE security directory → PKCS#7 SignedData → signer certificate) on test signatures made with
// `openssl cms -sign` (test/fixtures/exchange-config/README.md), and on hostile bytes.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { authenticodeSigner, isMicrosoftSubject } from '../src/parsers/authenticode.js';
import { peAnyFileVersion, peSignature } from '../src/parsers/pe.js';
import { fakeDll } from './support/pe.js';

const p7 = (f: string) => readFileSync(join(import.meta.dirname, 'fixtures', 'exchange-config', 'authenticode', `${f}.p7`));

describe('Authenticode signer', () => {
  it('reads the signing certificate and whether an issuer certificate in the blob verifies it', () => {
    const pe = fakeDll([15, 2, 2562, 17], p7('microsoft-chain'));
    expect(peAnyFileVersion(pe)).toBe('15.2.2562.17');
    const der = peSignature(pe);
    expect(Buffer.isBuffer(der)).toBe(true);
    const signer = authenticodeSigner(der as Buffer)!;
    expect(signer.subject).toBe('C=US, ST=Washington, L=Redmond, O=Microsoft Corporation, CN=Microsoft Windows');
    expect(signer.issuer).toContain('CN=Microsoft Windows Production PCA 2011');
    expect(signer.issuerInBlob).toBe(true);
    expect(isMicrosoftSubject(signer.subject)).toBe(true);
    expect(authenticodeSigner(p7('microsoft-selfsigned'))!.issuerInBlob).toBe(false);
    expect(isMicrosoftSubject(authenticodeSigner(p7('other-vendor'))!.subject)).toBe(false);
  });

  it('a PE without a certificate table is unsigned; other bytes are not PE', () => {
    expect(peSignature(fakeDll([10, 0, 17763, 1]))).toBe('unsigned');
    expect(peSignature(Buffer.from('<%@ Page Language="C#" %>'))).toBeNull();
  });

  it('never throws on truncated or corrupted signatures', () => {
    const der = p7('microsoft-chain');
    for (let n = 0; n < der.length; n += 7) expect(() => authenticodeSigner(der.subarray(0, n))).not.toThrow();
    for (let i = 0; i < 400; i++) {
      const bad = Buffer.from(der);
      bad[(i * 131) % bad.length] ^= 0xff;
      expect(() => authenticodeSigner(bad)).not.toThrow();
    }
    const pe = fakeDll([1, 0, 0, 0], der);
    for (let n = 0; n < pe.length; n += 13) expect(() => peSignature(pe.subarray(0, n))).not.toThrow();
  });
});
