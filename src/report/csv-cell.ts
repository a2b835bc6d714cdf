/**
 * One CSV cell: always quoted (RFC 4180), and a value a spreadsheet would run as a formula (`= + - @`, tab, CR)
 * is prefixed with `'` so that it shows as text. Control characters other than tab and line breaks (ESC, BEL, NUL:
 * a `cat` of the file would run them) are written as `\xNN`.
 */
export function csvCell(value: unknown): string {
  let s = value === null || value === undefined ? '' : typeof value === 'string' ? value : typeof value === 'object' ? JSON.stringify(value) : String(value);
  s = s.replace(/[\u0000-\u0008\u000b\u000c\u000e-\u001f\u007f-\u009f]/g, (c) => `\\x${c.charCodeAt(0).toString(16).padStart(2, '0')}`);
  if (/^[=+\-@\t\r]/.test(s)) s = `'${s}`;
  return `"${s.replace(/"/g, '""')}"`;
}

export function csvRow(values: unknown[]): string {
  return values.map(csvCell).join(',');
}
