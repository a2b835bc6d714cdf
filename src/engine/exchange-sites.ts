// Which IIS sites are Exchange's. A server may host other websites (W3SVC3…: an intranet, a CRM, a second site):
// their logs record none of the requests the exploit families use, so they are no web coverage of Exchange. A box
// whose only IIS logs are another site's must not be judged clean on them. Told by what the site serves: Exchange's
// front end (Default Web Site) and back end (Exchange Back End) answer requests to its virtual directories all day
// (clients, and Managed Availability probes every few minutes); another site answers those with 404, if it sees
// them at all (internet scanners probe /owa/ and /autodiscover/ on every site).
import type { Coverage } from '../model.js';
import { readHead, type EvidenceFile } from '../evidence/file.js';
import { byRel } from '../evidence/discover.js';
import { headText } from '../parsers/text-encoding.js';

/** Exchange's virtual directories (front end and back end), as the first segment of cs-uri-stem. */
const EXCHANGE_VDIR = /^\/(?:owa|ecp|ews|mapi|autodiscover|microsoft-server-activesync|powershell|rpc|oab)(?:[/?.]|$)/i;
/**
 * A request to the site's root (`/`, `/favicon.ico`, a load balancer's `/healthcheck.htm`): every site gets them, and
 * a load balancer polling `/` every few seconds outnumbers a quiet front end's own requests at night.
 */
const ROOT_LEVEL = /^\/[^/]*$/;
/** The head of each sampled log read (hundreds of requests on a busy server, every request of a quiet one's day). */
const SAMPLE_BYTES = 128 * 1024;
/** Logs read per site: the first, middle and last by name (a site that served Exchange once, is Exchange's). */
const SAMPLES = 3;

/**
 * Requests in a W3C log's text (but those to the site's root, which tell nothing), and how many of them Exchange's
 * virtual directories answered (any status but 404).
 */
export function exchangeShare(text: string): { requests: number; exchange: number } {
  let stem = -1;
  let status = -1;
  let requests = 0;
  let exchange = 0;
  for (const line of text.split('\n')) {
    if (line.startsWith('#Fields:')) {
      const fields = line.slice(8).trim().split(/\s+/);
      stem = fields.indexOf('cs-uri-stem');
      status = fields.indexOf('sc-status');
      continue;
    }
    if (stem < 0 || line.startsWith('#')) continue;
    const cells = line.trim().split(' ');
    // A line cut by the sample's end, or not a record.
    if (cells.length <= Math.max(stem, status)) continue;
    const vdir = EXCHANGE_VDIR.test(cells[stem]);
    if (!vdir && ROOT_LEVEL.test(cells[stem])) continue;
    requests++;
    if (vdir && (status < 0 || cells[status] !== '404')) exchange++;
  }
  return { requests, exchange };
}

/**
 * Is this IIS log a site of Exchange's? Null when it cannot tell (no #Fields with cs-uri-stem, no request): such a
 * log keeps counting as web coverage, as before. Exchange's when at least half its requests are answered by
 * Exchange's virtual directories.
 */
export function isExchangeSiteLog(text: string): boolean | null {
  const { requests, exchange } = exchangeShare(text);
  return requests === 0 ? null : exchange * 2 >= requests;
}

/**
 * The IIS coverage sources (`IIS W3SVC3`) whose sampled logs all show another website. `files`: each IIS source's
 * files with records. A log that cannot be read here keeps its site counted (it was read by the scan).
 */
export async function otherSites(files: ReadonlyMap<string, readonly EvidenceFile[]>): Promise<Set<string>> {
  const out = new Set<string>();
  for (const [source, list] of files) {
    const sorted = [...list].sort(byRel);
    const picks = [...new Set([0, sorted.length >> 1, sorted.length - 1])].slice(0, SAMPLES).map((i) => sorted[i]);
    let other = picks.length > 0;
    for (const f of picks) {
      let verdict: boolean | null;
      try {
        verdict = isExchangeSiteLog(headText(await readHead(f, SAMPLE_BYTES)));
      } catch {
        verdict = null;
      }
      if (verdict !== false) {
        other = false;
        break;
      }
    }
    if (other) out.add(source);
  }
  return out;
}

/** The coverage rows of other websites marked: listed as read, never counted as web coverage of Exchange. */
export function markOtherSites(coverage: Coverage[], other: ReadonlySet<string>): Coverage[] {
  return other.size ? coverage.map((c) => (other.has(c.source) && /^iis/i.test(c.format) ? { ...c, not_exchange: true } : c)) : coverage;
}
