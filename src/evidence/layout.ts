// Collections made by the tools responders already run, mapped back to the server's own paths.
//
// Velociraptor containers (offline-collector zips and server exports; layout: velociraptor-docs "The fuse command",
// Velocidex/velociraptor vql/tools/collector/collector_manager.go, reporting/container.go):
//   client_info.json  collection_context.json  log.json  requests.json  uploads.json  [metadata.json]
//   results/<Artifact>%2F<Source>.json          JSON Lines rows
//   uploads/<accessor>/C%3A/<path...>           files read with the "auto"/"file" accessor -> C:\<path>
//   uploads/ntfs/%5C%5C.%5CC%3A/<path...>       raw NTFS reads (\\.\C:) -> C:\<path>
// Every path component is percent-encoded (`%25` is a literal `%` in the name).
// Encrypted containers (password / X509 / PGP) are zipped twice: the outer zip holds `metadata.json` and an
// encrypted `data.zip` (velociraptor-docs "collection_data"); exhunt cannot read them and says so.
//
// KAPE target output (EricZimmerman/KapeFiles, `RecreateDirectories: True`): `<tdest>/<drive letter>/<path...>`
// beside `<timestamp>_CopyLog.csv` (and `<timestamp>_ConsoleLog.txt` / `*_SkipLog.csv`) -> `C:\<path>`.
import { posix } from 'node:path';
import type { Fact, Skipped } from '../model.js';
import { readAll, type EvidenceFile } from './file.js';

export type CollectionKind = 'velociraptor' | 'kape' | 'velociraptor-encrypted';

export interface Collection {
  kind: CollectionKind | null;
  files: EvidenceFile[];
}

/** Metadata files are read for host facts and (results/) as event rows; never swept as files of the server. */
const VELO_META = /(^|\/)(client_info|collection_context|requests|uploads|log|metadata)\.json(\.index)?$|(^|\/)results\/[^/]+\.json(\.index)?$/;
const RESULTS_ROWS = /(^|\/)results\/[^/]+\.json$/;
// KAPE 1.2 names runs `2022-05-28T024344`, KAPE 1.3 `2025-08-25T20_20_59_5246365` (and writes `_SkipLog.csv.csv`).
const KAPE_META = /(^|\/)\d{4}-?\d{2}-?\d{2}T?(?:\d{6}|\d{2}_\d{2}_\d{2}_\d{7})_(CopyLog|SkipLog|ConsoleLog)\.(csv|txt)(\.csv)?$/i;
const KAPE_COPYLOG = /_CopyLog\.csv$/i;
const MAX_META_BYTES = 16 * 1024 * 1024;

/** Decodes `%XX` escapes (Velociraptor's path-component encoding); a malformed escape stays as written. */
export function decodeComponent(s: string): string {
  if (!s.includes('%')) return s;
  const bytes: number[] = [];
  for (let i = 0; i < s.length; ) {
    const hex = s[i] === '%' ? s.slice(i + 1, i + 3) : '';
    if (/^[0-9a-fA-F]{2}$/.test(hex)) {
      bytes.push(parseInt(hex, 16));
      i += 3;
    } else {
      const cp = s.codePointAt(i)!;
      bytes.push(...Buffer.from(String.fromCodePoint(cp), 'utf8'));
      i += cp > 0xffff ? 2 : 1;
    }
  }
  return Buffer.from(bytes).toString('utf8');
}

/** `C:` from `C:`, `\\.\C:` or `\\?\C:`; a shadow-copy or other device path as written; null when not a device. */
function windowsDevice(component: string): string | null {
  const d = decodeComponent(component);
  const m = /^(?:\\\\[.?]\\)?([A-Za-z]):$/.exec(d);
  if (m) return `${m[1].toUpperCase()}:`;
  return d.startsWith('\\\\') ? d.replace(/\\+$/, '') : null;
}

/**
 * One Velociraptor path component as the server named it: `%XX` decoded, and the `_` its datastore appends to
 * names ending in `_` or `.db` removed (Velocidex/velociraptor utils/sanitize.go SanitizeString).
 */
export function velociraptorComponent(c: string): string {
  const d = decodeComponent(c);
  return d.endsWith('_') && (d.endsWith('__') || d.endsWith('.db_')) ? d.slice(0, -1) : d;
}

/** Windows path on the server of a file under a Velociraptor `uploads/` folder (relative to the container root). */
export function velociraptorServerPath(relUnderRoot: string): string | null {
  const parts = relUnderRoot.split('/');
  if (parts.length < 4 || parts[0] !== 'uploads') return null;
  const device = windowsDevice(parts[2]);
  if (device === null) return null;
  return [device, ...parts.slice(3).map(velociraptorComponent)].join('\\');
}

function dirOf(rel: string): string {
  const d = posix.dirname(rel);
  return d === '.' ? '' : `${d}/`;
}

function withServerPaths(files: EvidenceFile[], roots: string[], map: (under: string) => string | null, meta: RegExp): EvidenceFile[] {
  return files.map((f) => {
    if (meta.test(f.rel)) return { ...f, role: 'collection-metadata' as const };
    const root = roots.find((r) => f.rel.startsWith(r));
    if (root === undefined) return f;
    const server = map(f.rel.slice(root.length));
    return server === null ? f : { ...f, server };
  });
}

/**
 * Recognises a Velociraptor container or KAPE target output among one host's files and gives each collected file
 * its Windows path on the server (`server`); the container path stays in `rel`. Files of no known collection are
 * returned as they are.
 */
export function mapCollection(files: EvidenceFile[], skipped: Skipped[]): Collection {
  const veloRoots = files.filter((f) => /(^|\/)(collection_context|client_info)\.json$/.test(f.rel)).map((f) => dirOf(f.rel));
  if (veloRoots.length) {
    const roots = [...new Set(veloRoots)].sort((a, b) => b.length - a.length);
    let mapped = withServerPaths(files, roots, velociraptorServerPath, VELO_META);
    // Rows of event-log artifacts stand in for the logs only when the raw .evtx files were not collected.
    if (mapped.some((f) => f.server !== undefined && /\.evtx$/i.test(f.server))) {
      const rows = mapped.filter((f) => RESULTS_ROWS.test(f.rel));
      if (rows.length) {
        skipped.push({ path: rows.length === 1 ? rows[0].rel : `${rows.length} results/*.json files`, reason: 'Velociraptor result rows not read as events: the raw .evtx files are in the container and are read instead' });
        mapped = mapped.filter((f) => !RESULTS_ROWS.test(f.rel));
      }
    }
    return { kind: 'velociraptor', files: mapped };
  }
  const encrypted = files.find((f) => /(^|\/)data\.zip$/.test(f.rel) && files.some((m) => m.rel === `${dirOf(f.rel)}metadata.json`));
  if (encrypted) {
    skipped.push({
      path: encrypted.rel,
      reason:
        'encrypted Velociraptor collection (metadata.json + data.zip): exhunt cannot read it. Decrypt it first — X509: ' +
        '`velociraptor --config server.config.yaml unzip COLLECTION.zip --dump_dir OUT`; password: unzip data.zip with the ' +
        'collection password — then scan OUT',
    });
    return { kind: 'velociraptor-encrypted', files: files.filter((f) => f !== encrypted && f.rel !== `${dirOf(encrypted.rel)}metadata.json`) };
  }
  const kapeRoots = files.filter((f) => KAPE_COPYLOG.test(f.rel)).map((f) => dirOf(f.rel));
  if (kapeRoots.length) {
    const roots = [...new Set(kapeRoots)].sort((a, b) => b.length - a.length);
    const kape = (under: string) => {
      const m = /^([A-Za-z])\/(.+)$/.exec(under);
      return m ? `${m[1].toUpperCase()}:\\${m[2].replace(/\//g, '\\')}` : null;
    };
    return { kind: 'kape', files: withServerPaths(files, roots, kape, KAPE_META) };
  }
  return { kind: null, files };
}

const str = (v: unknown): string | null => (typeof v === 'string' && v.trim() !== '' ? v.trim() : null);

/** The first JSON object of a JSON or JSON Lines document (client_info.json is either, depending on version). */
function firstObject(text: string): Record<string, unknown> | null {
  const t = text.replace(/^\uFEFF/, '').trim();
  const tryParse = (s: string): unknown => {
    try {
      return JSON.parse(s);
    } catch {
      return null;
    }
  };
  let v = tryParse(t) ?? tryParse(t.slice(0, t.indexOf('\n') >>> 0));
  if (Array.isArray(v)) v = v[0];
  return v !== null && typeof v === 'object' && !Array.isArray(v) ? (v as Record<string, unknown>) : null;
}

async function readSmall(f: EvidenceFile): Promise<string | null> {
  if (f.size > MAX_META_BYTES) return null;
  return (await readAll(f)).toString('utf8');
}

/** `Hostname`/`Fqdn` from client_info.json (the collector's `info()` row; later versions write lower-case keys). */
function veloHostFacts(text: string, file: EvidenceFile): Fact[] {
  const info = firstObject(text);
  if (!info) return [];
  const host = str(info.Hostname) ?? str(info.hostname) ?? str(info.Fqdn)?.split('.')[0] ?? str(info.fqdn)?.split('.')[0] ?? null;
  return host ? [{ kind: 'hostname', value: host, source: { path: file.rel }, time: null, origin: 'Velociraptor client_info.json' }] : [];
}

/** KAPE's console log names the machine it ran on ("Machine name: MAIL01, 64-bit: ..."). */
function kapeHostFacts(text: string, file: EvidenceFile): Fact[] {
  const m = /Machine name:\s*([^\s,]{1,255})/i.exec(text.slice(0, 64 * 1024));
  return m ? [{ kind: 'hostname', value: m[1], source: { path: file.rel }, time: null, origin: 'KAPE ConsoleLog' }] : [];
}

/** Host name facts from the collection's own metadata. Unreadable metadata is reported, never fatal. */
export async function collectionFacts(c: Collection, skipped: Skipped[]): Promise<Fact[]> {
  const facts: Fact[] = [];
  const wanted =
    c.kind === 'velociraptor'
      ? c.files.filter((f) => /(^|\/)client_info\.json$/.test(f.rel))
      : c.kind === 'kape'
        ? c.files.filter((f) => /_ConsoleLog\.txt$/i.test(f.rel))
        : [];
  for (const f of wanted) {
    try {
      const text = await readSmall(f);
      if (text === null) continue;
      facts.push(...(c.kind === 'velociraptor' ? veloHostFacts(text, f) : kapeHostFacts(text, f)));
    } catch (err) {
      skipped.push({ path: f.rel, reason: `collection metadata not readable: ${(err as Error).message}` });
    }
  }
  return facts;
}
