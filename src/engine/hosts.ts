// Host-level bookkeeping of a scan: unique host labels across a fleet (the --since/--until file skip is in
// evidence/dates.ts).
import { basename, dirname, resolve } from 'node:path';

/** An input PATH and the name it is known by when that is not its own (a --hosts-from link: the link's name). */
export interface NamedInput {
  input: string;
  name?: string;
}

const ownName = (i: NamedInput) => i.name ?? basename(resolve(i.input));

/**
 * Each input's name for its label, unique among the inputs and known before any is scanned (so every report can
 * name a host as soon as it is judged): the folder's or zip's own name; inputs with the same own name take their
 * parent folder too, then a number.
 */
export function inputNames(inputs: readonly NamedInput[]): string[] {
  const own = inputs.map(ownName);
  const dup = (ls: string[]) => ls.map((l) => ls.indexOf(l) !== ls.lastIndexOf(l));
  const first = dup(own);
  const names = own.map((n, i) => (first[i] ? `${basename(dirname(resolve(inputs[i].input)))}/${n}` : n));
  const seen = new Map<string, number>();
  return names.map((n) => {
    const k = (seen.get(n) ?? 0) + 1;
    seen.set(n, k);
    return k === 1 ? n : `${n} #${k}`;
  });
}

/**
 * A host's label, unique in the report: the input's name plus the server name found in the evidence —
 * `acme-7.zip (MAIL01)` — or the input name alone when the evidence names no server. Ten customers' MAIL01 stay
 * ten rows.
 */
export function hostLabel(inputName: string, server: string | null): string {
  return server === null ? inputName : `${inputName} (${server})`;
}
