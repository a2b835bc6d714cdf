// Small matchers shared by rules. No file or output knowledge here.

/** PowerShell `-like` (case-insensitive, `*` any run, `?` one char), compiled once per pattern. */
export function psLike(pattern: string): (value: string) => boolean {
  const re = new RegExp(
    `^${pattern.replace(/[.+^${}()|[\]\\]/g, '\\$&').replace(/\*/g, '[\\s\\S]*').replace(/\?/g, '[\\s\\S]')}$`,
    'i',
  );
  return (value) => re.test(value);
}

/** Script or server-side markup inside a value that should be a plain URL (the CVE-2021-27065 web shell). */
export function markupIn(value: string): string | null {
  const m = /<\s*script\b|runat\s*=|page_load|eval\s*\(\s*request|<%|<\s*[a-z][\w:-]*[\s>/]/i.exec(value);
  return m ? m[0] : null;
}

/** The password of a China Chopper style shell: `Request["klk123456"]` / `Request.Item["x"]`. */
export function shellPassword(value: string): string | null {
  const m = /Request\s*(?:\.(?:Item|Form|QueryString))?\s*\[\s*["']([^"'\]]{1,64})["']\s*\]/i.exec(value);
  return m ? m[1] : null;
}

/** A non-empty string value or null (evidence fields are null when the log has no value). */
export function orNull(v: string | undefined): string | null {
  return v === undefined || v === '' ? null : v;
}

/** Regex source for a literal in which any character may appear as itself or as a `%XX` escape (URLs in logs). */
export function encodedLiteral(literal: string): string {
  return [...literal]
    .map((c) => {
      const hex = c.charCodeAt(0).toString(16).padStart(2, '0');
      const plain = c.replace(/[.*+?^${}()|[\]\\/]/g, '\\$&');
      return `(?:${plain}|%${hex})`;
    })
    .join('');
}
