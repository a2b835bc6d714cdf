// The one CSV reader: whole documents (IOC lists, data tables) with parseCsv, log lines with splitCsvLine.

/** RFC 4180 document reader (quoted fields, doubled quotes, CRLF or LF). */
export function parseCsv(text: string): string[][] {
  const rows: string[][] = [];
  let row: string[] = [];
  let field = '';
  let quoted = false;
  const s = text.charCodeAt(0) === 0xfeff ? text.slice(1) : text;
  for (let i = 0; i < s.length; i++) {
    const c = s[i];
    if (quoted) {
      if (c === '"' && s[i + 1] === '"') (field += '"'), i++;
      else if (c === '"') quoted = false;
      else field += c;
    } else if (c === '"' && field === '') quoted = true;
    else if (c === ',') row.push(field), (field = '');
    else if (c === '\n' || c === '\r') {
      if (c === '\r' && s[i + 1] === '\n') i++;
      row.push(field), rows.push(row), (row = []), (field = '');
    } else field += c;
  }
  if (field !== '' || row.length > 0) row.push(field), rows.push(row);
  return rows.filter((r) => !(r.length === 1 && r[0].trim() === ''));
}

/**
 * Splits one CSV line (RFC 4180: `"` quoting, `""` escapes). Exchange logs quote rarely, so the common case is a
 * plain split. An unterminated quote takes the rest of the line as the last value rather than failing.
 */
export function splitCsvLine(line: string, sep = ','): string[] {
  if (line.indexOf('"') === -1) return line.split(sep);
  const out: string[] = [];
  const n = line.length;
  let i = 0;
  for (;;) {
    let value = '';
    if (line.charCodeAt(i) === 34 /* " */) {
      let j = i + 1;
      for (;;) {
        const q = line.indexOf('"', j);
        if (q === -1) {
          value += line.slice(j);
          j = n;
          break;
        }
        value += line.slice(j, q);
        if (line.charCodeAt(q + 1) !== 34) {
          j = q + 1;
          break;
        }
        value += '"';
        j = q + 2;
      }
      i = j;
    }
    // Text between a closing quote and the next comma is kept, as spreadsheet tools do.
    const comma = line.indexOf(sep, i);
    if (comma === -1) {
      out.push(value + line.slice(i));
      return out;
    }
    out.push(value + line.slice(i, comma));
    i = comma + 1;
  }
}

/** Normalises the timestamps Exchange and PowerShell exports write to ISO 8601 UTC with Z, or null. */
export function isoTime(value: string | undefined): string | null {
  if (!value) return null;
  const v = value.trim();
  // 2021-03-03T06:49:42.162Z (Exchange), 2021-03-03 06:49:42 (IIS date+time joined by the caller)
  const m = /^(\d{4})-(\d{2})-(\d{2})[T ](\d{2}):(\d{2}):(\d{2})(\.\d{1,7})?(Z|[+-]\d{2}:?\d{2})?$/.exec(v);
  if (!m) return null;
  const frac = m[7] ? m[7].slice(0, 4).padEnd(4, '0') : '.000';
  const base = `${m[1]}-${m[2]}-${m[3]}T${m[4]}:${m[5]}:${m[6]}${frac}`;
  if (!m[8] || m[8] === 'Z') return `${base}Z`;
  const d = new Date(`${base}${m[8].length === 5 ? `${m[8].slice(0, 3)}:${m[8].slice(3)}` : m[8]}`);
  return Number.isNaN(d.getTime()) ? null : d.toISOString();
}
