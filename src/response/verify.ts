// `exhunt verify CASE`: re-hash every file of a case (folder or zip) against its manifest and check the chain that
// pins it (custody.log pins manifest.json, the seal beside the case pins both), read-only.
//
// What this proves and what it cannot (docs/case-format.md): every check here is internal consistency. Someone who
// can rewrite the case AND its seal can make all of them pass again; only the seal digest kept outside the case at
// collection time (`verify --expect`) catches that.
import { constants, createReadStream } from 'node:fs';
import { lstat, open, stat } from 'node:fs/promises';
import { basename, join, resolve } from 'node:path';
import type { Readable } from 'node:stream';
import {
  CUSTODY_LOG,
  incompletePath,
  MANIFEST_CSV,
  MANIFEST_JSON,
  parseManifest,
  readManifestBytes,
  sealPath,
  CaseFormatError,
  type CaseManifest,
} from '../evidence/case.js';
import { listZip, openZipEntryStream } from '../evidence/zip.js';
import { folderSealDigest, hashStream, parseCustodyLog, sha256File, sha256Hex } from './custody.js';
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
  /** Does manifest.json still hash to what custody.log's collect record pins? null: no usable record. */
  manifestIntact: boolean | null;
  /** Does the case still have the digest its seal (`CASE.custody.log` beside it) records? null: no usable seal. */
  sealIntact: boolean | null;
  /** The seal digest of the case as it is now (zip: SHA-256 of the file; folder: of manifest.json + custody.log). */
  seal: string | null;
  /** With `expect`: is `seal` the digest kept outside the case? null: none given. */
  expectMatches: boolean | null;
  /** Collect did not finish (its marker is beside the case): what the marker says. */
  incomplete: string | null;
  /** Why the case does not verify, the most telling first; empty when it verifies. */
  problems: string[];
}

export interface VerifyOptions {
  /** The seal digest `collect` printed, kept outside the case (ticket, notes). */
  expect?: string;
}

export const verifyOk = (r: VerifyResult): boolean => r.problems.length === 0;

const CASE_META = new Set([MANIFEST_JSON, MANIFEST_CSV, CUSTODY_LOG]);
/** custody.log and the seal hold one line each; a larger file is not ours. */
const MAX_LOG_BYTES = 1024 * 1024;

const tooLarge = (name: string): CaseFormatError => new CaseFormatError(`${name} is larger than ${MAX_LOG_BYTES} bytes: not a custody log`);

// Non-blocking and no links: a FIFO or a link planted as custody.log must not hang verify or lead it elsewhere.
const META_FLAGS = constants.O_RDONLY | (constants.O_NONBLOCK ?? 0) | (constants.O_NOFOLLOW ?? 0);

/** A small regular file of (or beside) the case, or null when absent or not a regular file. */
async function readSmall(path: string): Promise<Buffer | null> {
  const fh = await open(path, META_FLAGS).catch(() => null);
  if (!fh) return null;
  try {
    const st = await fh.stat();
    if (!st.isFile()) return null;
    if (st.size > MAX_LOG_BYTES) throw tooLarge(basename(path));
    return await fh.readFile();
  } finally {
    await fh.close();
  }
}

interface CaseReader {
  /** Hash of a case path, or null when it is not there. */
  hash(path: string): Promise<{ size: number; sha256: string } | null>;
  /** Every file path in the case. */
  paths(): Promise<string[]>;
  /** A small metadata file of the case, or null when it is not there. */
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
    read: (p) => readSmall(abs(p)),
  };
}

function zipReader(zip: string, refused: string[]): CaseReader {
  const entries = listZip(zip, (name, reason) => refused.push(`${name} (${reason})`)).then((es) => new Map(es.map((e) => [e.name, e])));
  const open = async (p: string): Promise<Readable | null> => ((await entries).has(p) ? openZipEntryStream(zip, p) : null);
  return {
    async hash(p) {
      const s = await open(p);
      return s ? hashStream(s) : null;
    },
    paths: async () => [...(await entries).keys()],
    async read(p) {
      if (((await entries).get(p)?.size ?? 0) > MAX_LOG_BYTES) throw tooLarge(p);
      const s = await open(p);
      if (!s) return null;
      const parts: Buffer[] = [];
      for await (const c of s) parts.push(c as Buffer);
      return Buffer.concat(parts);
    },
  };
}

/** What the incomplete marker says (JSON written by collect), in a few words. */
function markerState(text: string): string {
  try {
    const m = JSON.parse(text) as { state?: unknown };
    if (typeof m.state === 'string') return m.state;
  } catch {
    // an unreadable marker still marks the case incomplete
  }
  return 'collect did not finish';
}

const errText = (err: unknown): string => (err instanceof Error ? err.message : String(err));

/** Re-hashes the files against the manifest. */
async function checkFiles(manifest: CaseManifest, reader: CaseReader, refused: string[], r: VerifyResult): Promise<string[]> {
  for (const f of manifest.files) {
    const actual = await reader.hash(f.path);
    r.checked++;
    if (!actual) r.missing.push(f.path);
    else if (actual.sha256 !== f.sha256 || actual.size !== f.size) r.changed.push({ path: f.path, expected: { size: f.size, sha256: f.sha256 }, actual });
  }
  const listed = new Set(manifest.files.map((f) => f.path));
  r.extra = [...(await reader.paths()).filter((p) => !listed.has(p) && !CASE_META.has(p)).sort(), ...refused];
  const first = r.changed[0]?.path ?? r.missing[0] ?? r.extra[0];
  return first === undefined
    ? []
    : [`${r.changed.length} files changed, ${r.missing.length} missing, ${r.extra.length} not in the manifest since collection (first: ${first})`];
}

/** custody.log: exactly one record, the collect record, pinning manifest.json as it is. */
function checkCustody(custody: Buffer | null, manifestBytes: Buffer, r: VerifyResult): string[] {
  if (!custody) return [`${CUSTODY_LOG} is missing: nothing pins ${MANIFEST_JSON}`];
  let entries;
  try {
    entries = parseCustodyLog(custody.toString('utf8'), CUSTODY_LOG);
  } catch (err) {
    return [errText(err)];
  }
  const [collect, next] = entries;
  if (!collect) return [`${CUSTODY_LOG} is empty: nothing pins ${MANIFEST_JSON}`];
  if (collect.action !== 'collect') return [`${CUSTODY_LOG} line 1 is a "${collect.action}" record, not the collect record`];
  const problems: string[] = [];
  r.manifestIntact = collect.sha256 === sha256Hex(manifestBytes);
  if (!r.manifestIntact) problems.push(`${MANIFEST_JSON} changed since collection: its SHA-256 is not the one the collect record in ${CUSTODY_LOG} pins`);
  if (next)
    problems.push(`${CUSTODY_LOG} line ${next.line}: a "${next.action}" record after the collect record; the log holds one record, so it was added to after collection`);
  return problems;
}

/** The seal beside the case: exactly one seal record, recording the case's digest as it is now. */
async function checkSeal(root: string, isZip: boolean, r: VerifyResult): Promise<string[]> {
  const path = sealPath(root);
  let text: Buffer | null;
  try {
    text = await readSmall(path);
  } catch (err) {
    return [errText(err)];
  }
  // The digest kept outside the case is the seal itself: a matching --expect stands in for a lost seal file.
  if (!text) return r.expectMatches ? [] : [`the seal ${path} is missing: nothing pins the case as collected (give --expect with the digest kept at collection)`];
  let entries;
  try {
    entries = parseCustodyLog(text.toString('utf8'), basename(path));
  } catch (err) {
    return [errText(err)];
  }
  if (entries.length !== 1 || entries[0].action !== 'seal') return [`${path} must hold exactly one seal record`];
  r.sealIntact = entries[0].sha256 === r.seal;
  if (r.sealIntact) return [];
  return [isZip ? `the zip changed since it was sealed: its SHA-256 is not the one in ${path}` : `${MANIFEST_JSON} + ${CUSTODY_LOG} changed since they were sealed: their digest is not the one in ${path}`];
}

export async function verifyCase(root: string, opts: VerifyOptions = {}): Promise<VerifyResult> {
  const abs = resolve(root);
  const st = await stat(abs).catch(() => null);
  if (!st) throw new CaseFormatError(`${root} does not exist`);
  const isZip = st.isFile();
  const r: VerifyResult = { checked: 0, missing: [], changed: [], extra: [], manifestIntact: null, sealIntact: null, seal: null, expectMatches: null, incomplete: null, problems: [] };
  const marker = await readSmall(incompletePath(abs)).catch(() => Buffer.from(''));
  if (marker) {
    r.incomplete = markerState(marker.toString('utf8'));
    r.problems.push(`the case is incomplete: ${r.incomplete} (${incompletePath(abs)} is present); collect again with --replace`);
  }
  let bytes: Buffer | null;
  let manifest: CaseManifest;
  try {
    bytes = await readManifestBytes(abs);
    if (!bytes) {
      if (r.incomplete) return r;
      throw new CaseFormatError(`${root} is not an exhunt case (no ${MANIFEST_JSON})`);
    }
    manifest = parseManifest(bytes);
  } catch (err) {
    if (err instanceof CaseFormatError && !r.incomplete && /not an exhunt case/.test(err.message)) throw err;
    r.problems.push(isZip && !(err instanceof CaseFormatError) ? `the case zip cannot be read: ${errText(err)}` : errText(err));
    return r;
  }
  const refused: string[] = [];
  const reader = isZip ? zipReader(abs, refused) : dirReader(abs);
  const files = await checkFiles(manifest, reader, refused, r);
  let custody: Buffer | null = null;
  let custodyProblems: string[];
  try {
    custody = await reader.read(CUSTODY_LOG);
    custodyProblems = checkCustody(custody, bytes, r);
  } catch (err) {
    custodyProblems = [errText(err)];
  }
  r.seal = isZip ? await sha256File(abs) : custody ? folderSealDigest(bytes, custody) : null;
  const expected: string[] = [];
  if (opts.expect !== undefined) {
    r.expectMatches = r.seal === opts.expect.toLowerCase();
    if (!r.expectMatches) expected.push(`the seal digest is ${r.seal ?? 'not computable'}, not ${opts.expect}, the one kept at collection: this is not the case as collected`);
  }
  const seal = await checkSeal(abs, isZip, r);
  r.problems.push(...expected, ...files, ...custodyProblems, ...seal);
  return r;
}
