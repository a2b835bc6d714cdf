// ECP Server log EventData: a `;`-separated bag of `S:KEY=value` pairs; S:CMD encodes `Cmdlet.Param=value...`.

/** Splits the EventData bag. Quoted pairs look like `'S:CMD=...''x''...'` (`''` is an escaped quote). */
export function parseEventData(data: string): Map<string, string> {
  const bag = new Map<string, string>();
  const s = data.includes('""') ? data.replace(/""/g, '"') : data; // a bag copied without its outer CSV quotes
  let i = 0;
  while (i < s.length) {
    if (s.charCodeAt(i) === 59 /* ; */ || s.charCodeAt(i) === 32) {
      i++;
      continue;
    }
    let pair: string;
    if (s.charCodeAt(i) === 39 /* ' */) {
      const end = closingQuote(s, i + 1);
      pair = s.slice(i + 1, end).replace(/''/g, "'");
      i = end + 1;
    } else {
      const end = nextPairStart(s, i);
      pair = s.slice(i, end);
      i = end;
    }
    const eq = pair.indexOf('=');
    if (eq > 0) bag.set(pair.slice(0, eq), pair.slice(eq + 1));
  }
  return bag;
}

/** Index of the quote closing a `'...'` value that starts at `from` (a doubled quote is an escape). */
function closingQuote(s: string, from: number): number {
  let j = from;
  for (;;) {
    const q = s.indexOf("'", j);
    if (q === -1) return s.length;
    if (s.charCodeAt(q + 1) !== 39) return q;
    j = q + 2;
  }
}

/** End of an unquoted pair: the next `;` that starts another `KEY:NAME=` pair (values may contain `;`). */
function nextPairStart(s: string, from: number): number {
  const re = /;(?='?[A-Za-z0-9]{1,4}:[A-Za-z][\w.-]*=)|;$/g;
  re.lastIndex = from;
  const m = re.exec(s);
  return m ? m.index : s.length;
}

export interface EcpCommand {
  cmdlet: string;
  params: Array<[string, string]>;
}

/**
 * Decodes S:CMD (`Set-OabVirtualDirectory.ExternalUrl='http://f/...'.Identity='...'`, or
 * `Pipeline.1|Get-X.Param=...`). Quoted values end at a single `'`; unquoted ones at the next `.Name=`.
 */
export function decodeCmd(cmd: string): EcpCommand {
  let s = cmd;
  const pipe = /^Pipeline\.\d+\|/i.exec(s);
  if (pipe) s = s.slice(pipe[0].length);
  const dot = s.search(/\.[A-Za-z][\w-]*=/);
  const cmdlet = (dot === -1 ? s : s.slice(0, dot)).trim();
  const params: Array<[string, string]> = [];
  let i = dot === -1 ? s.length : dot + 1;
  while (i < s.length) {
    const eq = s.indexOf('=', i);
    if (eq === -1) break;
    const name = s.slice(i, eq);
    let value: string;
    let next: number;
    if (s.charCodeAt(eq + 1) === 39) {
      const end = closingQuote(s, eq + 2);
      value = s.slice(eq + 2, end).replace(/''/g, "'");
      next = end + 1;
    } else {
      const re = /\.[A-Za-z][\w-]*=/g;
      re.lastIndex = eq + 1;
      const m = re.exec(s);
      next = m ? m.index : s.length;
      value = s.slice(eq + 1, next);
    }
    params.push([name, value]);
    i = s.charCodeAt(next) === 46 /* . */ ? next + 1 : next;
  }
  return { cmdlet, params };
}

/** The `msExchEcpCanary` value in a URL or AnchorMailbox, which ties HttpProxy rows to ECP actions. */
export function ecpCanary(text: string | undefined): string | null {
  if (!text) return null;
  const m = /msExchEcpCanary=([^&;#\s'"]+)/i.exec(text);
  return m ? m[1].replace(/\.$/, '') : null;
}
