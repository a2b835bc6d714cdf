// Exchange configuration as the collector saves it: cmdlet output as JSON (`ConvertTo-Json`) and registry exports
// (`reg export`, "Windows Registry Editor Version 5.00", usually UTF-16LE). Bytes → plain records; no attack knowledge.

export type CmdletObject = Record<string, unknown>;

/** `ConvertTo-Json` output of one cmdlet: one object, an array of them, or nothing (`null` / empty file). */
export function parseCmdletJson(text: string): CmdletObject[] {
  const t = text.trim();
  if (t === '' || t === 'null') return [];
  const v: unknown = JSON.parse(t);
  const list = Array.isArray(v) ? v : [v];
  return list.filter((o): o is CmdletObject => o !== null && typeof o === 'object' && !Array.isArray(o));
}

/** A property as text: strings as they are, booleans/numbers printed, arrays joined with ", ", objects by `.value` or JSON. */
export function prop(o: CmdletObject, name: string): string | null {
  const key = Object.keys(o).find((k) => k.toLowerCase() === name.toLowerCase());
  if (key === undefined) return null;
  return text(o[key]);
}

function text(v: unknown): string | null {
  if (v === null || v === undefined) return null;
  if (typeof v === 'string') return v;
  if (typeof v === 'number' || typeof v === 'boolean') return String(v);
  if (Array.isArray(v)) return v.map((x) => text(x) ?? '').join(', ');
  if (typeof v === 'object' && 'value' in v) return text((v as { value: unknown }).value);
  return JSON.stringify(v);
}

/** A property as a list of strings (PowerShell writes a one-element list as a bare value). */
export function propList(o: CmdletObject, name: string): string[] {
  const key = Object.keys(o).find((k) => k.toLowerCase() === name.toLowerCase());
  if (key === undefined) return [];
  const v = o[key];
  const items = Array.isArray(v) ? v : v === null || v === undefined ? [] : [v];
  return items.map((x) => text(x) ?? '').filter((s) => s !== '');
}

export interface RegValue {
  key: string;
  name: string;
  /** `dword:0000001` → "1" (decimal); strings unquoted; other types as written. */
  value: string;
  line: number;
}

const KEY = /^\[(-?)([^\]\r\n]{1,1024})\]\s*$/;
const VALUE = /^(?:"((?:[^"\\]|\\.){0,512})"|@)=(.{0,4096})$/;

/** Parses a .reg export; lines it does not understand are skipped (REG_BINARY continuations and the like). */
export function parseRegExport(text: string): RegValue[] {
  const out: RegValue[] = [];
  let key: string | null = null;
  const lines = text.split(/\r\n|\r|\n/); // a lone CR ends a line too
  for (let i = 0; i < lines.length; i++) {
    const line = lines[i];
    const k = KEY.exec(line);
    if (k) {
      key = k[1] === '-' ? null : k[2];
      continue;
    }
    if (key === null) continue;
    const v = VALUE.exec(line);
    if (!v) continue;
    const name = v[1] === undefined ? '(Default)' : v[1].replace(/\\(.)/g, '$1');
    out.push({ key, name, value: regData(v[2]), line: i + 1 });
  }
  return out;
}

function regData(raw: string): string {
  const d = /^dword:([0-9a-fA-F]{1,8})$/.exec(raw.trim());
  if (d) return String(parseInt(d[1], 16));
  const s = /^"((?:[^"\\]|\\.)*)"$/.exec(raw.trim());
  if (s) return s[1].replace(/\\(.)/g, '$1');
  return raw.trim();
}
