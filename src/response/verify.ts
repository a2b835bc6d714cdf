// `exhunt verify CASE`: re-hash every file of a case (folder or zip) against its manifest, read-only.
import { createReadStream } from 'node:fs';
import { lstat, readFile, stat } from 'node:fs/promises';
import { join } from 'node:path';
import type { Readable } from 'node:stream';
import { CUSTODY_LOG, MANIFEST_CSV, MANIFEST_JSON, parseManifest, readManifestBytes, CaseFormatError } from '../evidence/case.js';
import { listZip, openZipEntryStream } from '../evidence/zip.js';
import { hashStream, sha256File, sha256Hex } from './custody.js';
import { walkFiles, type WalkOptions } from '../evidence/walk.js';

export interface Change {
  path: string;
  expected: { size: number; sha256: string };
  actual: { size: number; sha256: string };
}

export interface VerifyResult {
  checked: number;
  missing: string[];
  changed: Change[];
  /** Files in the case that the manifest does not list (or zip entries refused as unsafe). */
  extra: string[];
  /** Does manifest.json still hash to what custody.log recorded at collection? null: no record to compare. */
  manifestIntact: boolean | null;
  /** For a zip: does it still hash to its sidecar seal (`FILE.zip.custody.log`)? null: no seal. */
  sealIntact: boolean | null;
}

export const verifyOk = (r: VerifyResult): boolean =>
  r.missing.length === 0 && r.changed.length === 0 && r.extra.length === 0 && r.manifestIntact !== false && r.sealIntact !== false;

const CASE_META = new Set([MANIFEST_JSON, MANIFEST_CSV, CUSTODY_LOG]);

/** The sha256 the last record of an action in a custody log pins, if any. */
export function recordedHash(log: string, action: 'collect' | 'seal'): string | null {
  let found: string | null = null;
  for (const line of log.split(/\r?\n/)) {
    if (!line.trim()) continue;
    try {
      const rec = JSON.parse(line) as { action?: unknown; sha256?: unknown };
      if (rec.action === action && typeof rec.sha256 === 'string') found = rec.sha256;
    } catch {
      // a hand-edited or damaged line pins nothing
    }
  }
  return found;
}

interface CaseReader {
  /** Hash of a case path, or null when it is not there. */
  hash(path: string): Promise<{ size: number; sha256: string } | null>;
  /** Every file path in the case. */
  paths(): Promise<string[]>;
  read(path: string): Promise<Buffer | null>;
}

function dirReader(root: string): CaseReader {
  const abs = (p: string): string => join(root, ...p.split('/'));
  return {
    async hash(p) {
      const st = await lstat(abs(p)).catch(() => null);
      return st?.isFile() ? hashStream(createReadStream(abs(p))) : null;
    },
    async paths() {
      const out: string[] = [];
      // A link in a case folder is listed (and then fails its hash check); an unreadable folder fails the check.
      const problem: WalkOptions['problem'] = (parts, kind, err) => {
        if (kind === 'link') out.push(parts.join('/'));
        else throw err ?? new Error(`folder not readable: ${parts.join('/')}`);
      };
      for await (const f of walkFiles(root, { problem })) out.push(f.parts.join('/'));
      return out;
    },
    read: (p) => readFile(abs(p)).catch(() => null),
  };
}

function zipReader(zip: string, refused: string[]): CaseReader {
  const names = listZip(zip, (name, reason) => refused.push(`${name} (${reason})`)).then((es) => new Set(es.map((e) => e.name)));
  const open = async (p: string): Promise<Readable | null> => ((await names).has(p) ? openZipEntryStream(zip, p) : null);
  return {
    async hash(p) {
      const s = await open(p);
      return s ? hashStream(s) : null;
    },
    paths: async () => [...(await names)],
    async read(p) {
      const s = await open(p);
      if (!s) return null;
      const parts: Buffer[] = [];
      for await (const c of s) parts.push(c as Buffer);
      return Buffer.concat(parts);
    },
  };
}

export async function verifyCase(root: string): Promise<VerifyResult> {
  const bytes = await readManifestBytes(root);
  if (!bytes) throw new CaseFormatError(`${root} is not an exhunt case (no ${MANIFEST_JSON})`);
  const manifest = parseManifest(bytes);
  const isZip = (await stat(root)).isFile();
  const refused: string[] = [];
  const reader = isZip ? zipReader(root, refused) : dirReader(root);
  const result: VerifyResult = { checked: 0, missing: [], changed: [], extra: [], manifestIntact: null, sealIntact: null };

  for (const f of manifest.files) {
    const actual = await reader.hash(f.path);
    result.checked++;
    if (!actual) result.missing.push(f.path);
    else if (actual.sha256 !== f.sha256 || actual.size !== f.size)
      result.changed.push({ path: f.path, expected: { size: f.size, sha256: f.sha256 }, actual });
  }
  const listed = new Set(manifest.files.map((f) => f.path));
  result.extra = [...(await reader.paths()).filter((p) => !listed.has(p) && !CASE_META.has(p)).sort(), ...refused];

  const custody = await reader.read(CUSTODY_LOG);
  const pinned = custody ? recordedHash(custody.toString('utf8'), 'collect') : null;
  if (pinned) result.manifestIntact = pinned === sha256Hex(bytes);
  if (isZip) {
    const seal = await readFile(`${root}.custody.log`, 'utf8').catch(() => null);
    const sealed = seal ? recordedHash(seal, 'seal') : null;
    if (sealed) result.sealIntact = sealed === (await sha256File(root));
  }
  return result;
}
