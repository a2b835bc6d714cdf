// Microsoft's known-good file hashes per Exchange build, in the compact form built by
// scripts/build-baselines.mjs (data/baselines/exchange-baselines.tsv.gz).
import { gunzipSync } from 'node:zlib';
import { packageBytes } from '../../packaged.js';
import { BASELINE_AUTH_URLS } from './shipped-auth-urls.js';

/**
 * The baseline as its text and one map from path to where its hashes are listed: a map of hashes per path (21,000
 * maps) took 9 MB of heap, and building it 26 MB of RSS, in every worker that sweeps files.
 */
export interface Baseline {
  builds: string[];
  /** Lines `path\t<sha256 first 16 hex>:<hex bitmask of builds> …` (scripts/build-baselines.mjs). */
  text: string;
  /** Exchange-relative path (lower case, `\`) -> offset in `text` of its `hash:mask` list. */
  paths: Map<string, number>;
}

const FILE = 'data/baselines/exchange-baselines.tsv.gz';

function parseBaseline(text: string): Baseline {
  const out: Baseline = { builds: [], text, paths: new Map() };
  for (let at = 0; at < text.length; ) {
    const nl = text.indexOf('\n', at);
    const end = nl < 0 ? text.length : nl;
    if (text.startsWith('#builds\t', at)) out.builds = text.slice(at, end).split('\t').slice(1);
    else if (end > at && text[at] !== '#') {
      const tab = text.indexOf('\t', at);
      out.paths.set(text.slice(at, tab), tab + 1);
    }
    at = end + 1;
  }
  return out;
}

let cached: Baseline | null = null;
export function baseline(): Baseline {
  return (cached ??= parseBaseline(gunzipSync(packageBytes(FILE)).toString('utf8')));
}

const BUILD_SEGMENT = /^1[45]\.\d{1,2}\.\d{1,4}(\.\d{1,4})?$/;
const EXCHANGE_ROOTS = ['frontend/httpproxy/', 'clientaccess/'];

/**
 * The Exchange-relative path of an evidence file in the baselines' form (`frontend\httpproxy\owa\auth\logon.aspx`),
 * with build folders written `version` as Microsoft does; null when the file is not under an Exchange web root.
 */
export function exchangeRelPath(rel: string): string | null {
  const p = '/' + rel.replace(/\\/g, '/').toLowerCase();
  for (const root of EXCHANGE_ROOTS) {
    const i = p.lastIndexOf('/' + root);
    if (i >= 0)
      return p
        .slice(i + 1)
        .split('/')
        .map((seg) => (BUILD_SEGMENT.test(seg) || seg === 'current' ? 'version' : seg))
        .join('\\');
  }
  return null;
}

export type BaselineVerdict =
  | { status: 'known'; builds: string[] }
  /** The path ships with Exchange but this content is in none of the shipped builds' lists. */
  | { status: 'differs'; builds: string[] }
  | { status: 'unknown-path' };

function buildsOf(mask: number, b: Baseline): string[] {
  return b.builds.filter((_, i) => mask & (1 << i));
}

export function checkBaseline(exRel: string, sha256: string): BaselineVerdict {
  const b = baseline();
  const from = b.paths.get(exRel);
  if (from === undefined) return { status: 'unknown-path' };
  const nl = b.text.indexOf('\n', from);
  const to = nl < 0 ? b.text.length : nl;
  let all = 0;
  for (let at = from; at < to; ) {
    const colon = b.text.indexOf(':', at);
    const space = b.text.indexOf(' ', colon);
    const end = space < 0 || space > to ? to : space;
    const mask = parseInt(b.text.slice(colon + 1, end), 16);
    if (colon - at === 16 && b.text.startsWith(sha256.slice(0, 16).toLowerCase(), at)) return { status: 'known', builds: buildsOf(mask, b) };
    all |= mask;
    at = end + 1;
  }
  return { status: 'differs', builds: buildsOf(all, b) };
}

// Volexity and Elastic name the ecp\auth file TimeoutLogoff.aspx; Microsoft's baselines say TimeoutLogout.aspx.
const SHIPPED_AUTH_URLS: ReadonlySet<string> = new Set([...BASELINE_AUTH_URLS, '/ecp/auth/timeoutlogoff.aspx']);

/**
 * URL paths of the scripts Exchange ships under `/owa/auth/` and `/ecp/auth/` (lower case). A generated list, not
 * read from the baseline: the rules need these few names in every command and worker, and gunzipping 2.4 MB of
 * baseline text for them cost each one its start-up time and memory.
 */
export function shippedAuthUrls(): ReadonlySet<string> {
  return SHIPPED_AUTH_URLS;
}

/** The `/owa/auth/` and `/ecp/auth/` URL paths of the files in baseline `text` (the uncompressed baseline file). */
export function authUrlsOf(text: string): string[] {
  const out = new Set<string>();
  for (const line of text.split('\n')) {
    const m = /^frontend\\httpproxy\\(owa|ecp)\\auth\\([^\\\t]+)\t/.exec(line);
    if (m) out.add(`/${m[1]}/auth/${m[2]}`);
  }
  return [...out].sort();
}

/** The auth URL paths of the shipped baseline file (BASELINE_AUTH_URLS must equal them; test/files.test.ts). */
export function baselineAuthUrls(): string[] {
  return authUrlsOf(gunzipSync(packageBytes(FILE)).toString('utf8'));
}
