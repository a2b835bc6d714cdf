// The signer of an Authenticode signature (PKCS#7 SignedData, RFC 2315 / RFC 5652): the certificate whose serial
// number the first SignerInfo names, read with node:crypto's X509Certificate. This reads who signed; it does NOT
// verify the signature over the image hash nor the chain to a trusted root (no trust store offline).
import { X509Certificate } from 'node:crypto';

interface Tlv {
  tag: number;
  /** Start of the whole element (tag byte) and end of its content. */
  start: number;
  content: number;
  end: number;
}

/** One DER element at `at`, or null when it does not fit (hostile input: every length is bounded by the buffer). */
function tlv(buf: Buffer, at: number, limit = buf.length): Tlv | null {
  if (at + 2 > limit) return null;
  const tag = buf[at];
  let len = buf[at + 1];
  let content = at + 2;
  if (len & 0x80) {
    const n = len & 0x7f;
    if (n === 0 || n > 4 || content + n > limit) return null;
    len = 0;
    for (let i = 0; i < n; i++) len = len * 256 + buf[content + i];
    content += n;
  }
  const end = content + len;
  return end > limit ? null : { tag, start: at, content, end };
}

/** The child elements of a constructed element. */
function children(buf: Buffer, parent: Tlv): Tlv[] {
  const out: Tlv[] = [];
  for (let at = parent.content; at < parent.end; ) {
    const c = tlv(buf, at, parent.end);
    if (!c) return out;
    out.push(c);
    at = c.end;
  }
  return out;
}

const SIGNED_DATA_OID = Buffer.from([0x2a, 0x86, 0x48, 0x86, 0xf7, 0x0d, 0x01, 0x07, 0x02]);

export interface Signer {
  subject: string;
  issuer: string;
  /**
   * The signing certificate's own signature verifies with the public key of another certificate in the blob whose
   * subject is its issuer (the intermediate CA Authenticode signatures carry). False for a self-signed certificate.
   */
  issuerInBlob: boolean;
}

/** The signing certificate of a PKCS#7 SignedData blob, or null when the blob is not one (or names no certificate it holds). */
export function authenticodeSigner(der: Buffer): Signer | null {
  const info = tlv(der, 0);
  if (!info || info.tag !== 0x30) return null;
  const [oid, explicit] = children(der, info);
  if (!oid || oid.tag !== 0x06 || !der.subarray(oid.content, oid.end).equals(SIGNED_DATA_OID) || !explicit || explicit.tag !== 0xa0) return null;
  const sd = children(der, explicit)[0];
  if (!sd || sd.tag !== 0x30) return null;
  const parts = children(der, sd);
  const certSet = parts.find((p) => p.tag === 0xa0);
  const signerInfos = parts.at(-1);
  if (!certSet || !signerInfos || signerInfos.tag !== 0x31) return null;
  const first = children(der, signerInfos)[0];
  const issuerSerial = first ? children(der, first)[1] : undefined;
  const serialTlv = issuerSerial ? children(der, issuerSerial)[1] : undefined;
  if (!serialTlv || serialTlv.tag !== 0x02) return null;
  const serial = normSerial(der.subarray(serialTlv.content, serialTlv.end).toString('hex'));
  const certs: X509Certificate[] = [];
  for (const c of children(der, certSet)) {
    if (c.tag !== 0x30) continue;
    try {
      certs.push(new X509Certificate(der.subarray(c.start, c.end)));
    } catch {
      // not a certificate OpenSSL can read: skip it
    }
  }
  const signer = certs.find((c) => normSerial(c.serialNumber) === serial);
  if (!signer) return null;
  const issuerInBlob = certs.some((c) => c !== signer && c.subject === signer.issuer && signer.verify(c.publicKey));
  return { subject: signer.subject.replace(/\n/g, ', '), issuer: signer.issuer.replace(/\n/g, ', '), issuerInBlob };
}

const normSerial = (hex: string) => hex.toUpperCase().replace(/^0+(?=.)/, '');

/** Microsoft signs its own binaries with a certificate whose subject holds these (HealthChecker's test, case-sensitive). */
export function isMicrosoftSubject(subject: string): boolean {
  return subject.includes('O=Microsoft Corporation') && subject.includes('L=Redmond') && /(?:^|, )(?:ST|S)=Washington(?:,|$)/.test(subject);
}
