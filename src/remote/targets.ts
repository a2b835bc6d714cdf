// Target lists: one URL or host[:port] per line, `#` comments.

/** Turns `https://mail.example.org/owa`, `mail.example.org`, `10.0.0.5:8443` or `[::1]:443` into a base URL. */
export function parseTarget(text: string): URL {
  const s = text.trim();
  if (s.length === 0 || s.length > 2048 || /\s/.test(s)) throw new Error(`bad target: ${JSON.stringify(s.slice(0, 100))}`);
  const withScheme = /^[a-z][a-z0-9+.-]*:\/\//i.test(s) ? s : `${/:80$/.test(s) ? 'http' : 'https'}://${s}`;
  let url: URL;
  try {
    url = new URL(withScheme);
  } catch {
    throw new Error(`bad target: ${JSON.stringify(s.slice(0, 100))}`);
  }
  if (url.protocol !== 'https:' && url.protocol !== 'http:') throw new Error(`bad target scheme ${url.protocol} in ${JSON.stringify(s.slice(0, 100))}`);
  if (!url.hostname) throw new Error(`bad target: ${JSON.stringify(s.slice(0, 100))}`);
  // Exchange virtual directories live at the site root; a path in the target is ignored.
  return new URL(`${url.protocol}//${url.host}/`);
}

/** Lines of a targets file: blank lines and everything after `#` are ignored. */
export function targetLines(text: string): string[] {
  return numberedTargetLines(text).map((l) => l.text);
}

/** The same lines with their 1-based line numbers, so a bad one can be named. */
export function numberedTargetLines(text: string): Array<{ line: number; text: string }> {
  return text
    .split(/\r\n|\r|\n/)
    .map((l, i) => ({ line: i + 1, text: l.replace(/#.*/, '').trim() }))
    .filter((l) => l.text.length > 0);
}
