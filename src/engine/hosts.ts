// Host-level bookkeeping of a scan: unique host labels across a fleet (the --since/--until file skip is in
// evidence/dates.ts).
import { basename, dirname, resolve } from 'node:path';

/**
 * One label per host, unique in the report: the input's own name (folder or zip) plus the server name found in the
 * evidence — `acme-7.zip (MAIL01)` — or the input name alone when the evidence names no server. Ten customers'
 * MAIL01 stay ten rows. Inputs with the same own name take their parent folder too, then a number.
 */
export function hostLabels(hosts: Array<{ input: string; server: string | null }>): string[] {
  const make = (own: string, server: string | null) => (server === null ? own : `${own} (${server})`);
  let labels = hosts.map((h) => make(basename(resolve(h.input)), h.server));
  const dup = (ls: string[]) => ls.map((l) => ls.indexOf(l) !== ls.lastIndexOf(l));
  const first = dup(labels);
  labels = labels.map((l, i) => (first[i] ? make(`${basename(dirname(resolve(hosts[i].input)))}/${basename(resolve(hosts[i].input))}`, hosts[i].server) : l));
  const seen = new Map<string, number>();
  return labels.map((l) => {
    const n = (seen.get(l) ?? 0) + 1;
    seen.set(l, n);
    return n === 1 ? l : `${l} #${n}`;
  });
}
