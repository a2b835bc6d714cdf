// A small, strict, non-validating XML reader for IIS configuration files (web.config, applicationHost.config).
// Evidence is hostile: no DTD processing, no external or custom entities, bounded depth and size.

export interface XmlElement {
  name: string;
  attrs: Record<string, string>;
  children: XmlElement[];
  /** 1-based line of the start tag. */
  line: number;
  /** The element's own character data (entities decoded, CDATA included), when it has any besides whitespace. */
  text?: string;
}

export class XmlError extends Error {
  override name = 'XmlError';
  constructor(
    message: string,
    readonly line: number,
  ) {
    super(`${message} (line ${line})`);
  }
}

export const XML_LIMITS = { maxBytes: 32 * 1024 * 1024, maxDepth: 256 };

const NAME = /[A-Za-z_:][-A-Za-z0-9_:.]*/y;
const PREDEFINED: Record<string, string> = { lt: '<', gt: '>', amp: '&', quot: '"', apos: "'" };

function decodeEntities(s: string, line: number): string {
  return s.replace(/&([^;&\s]{1,10});|&/g, (whole, ref: string | undefined) => {
    if (ref === undefined) throw new XmlError('bare "&" (must be &amp;)', line);
    if (Object.hasOwn(PREDEFINED, ref)) return PREDEFINED[ref]; // not `in`: `&constructor;` is no entity
    const num = /^#(?:x([0-9A-Fa-f]+)|([0-9]+))$/.exec(ref);
    if (!num) throw new XmlError(`unknown entity ${whole}`, line);
    const code = num[1] !== undefined ? parseInt(num[1], 16) : parseInt(num[2], 10);
    if (code > 0x10ffff || code === 0) throw new XmlError(`invalid character reference ${whole}`, line);
    return String.fromCodePoint(code);
  });
}

/** Parses a whole document and returns its root element; throws XmlError when the text is not well-formed. */
export function parseXml(text: string): XmlElement {
  if (text.length > XML_LIMITS.maxBytes) throw new XmlError('document too large', 1);
  let pos = text.charCodeAt(0) === 0xfeff ? 1 : 0;
  let line = 1;
  const stack: XmlElement[] = [];
  let root: XmlElement | null = null;

  const advance = (to: number): void => {
    for (let i = pos; i < to; i++) if (text.charCodeAt(i) === 10) line++;
    pos = to;
  };
  const skipPast = (marker: string, what: string): void => {
    const end = text.indexOf(marker, pos);
    if (end < 0) throw new XmlError(`unterminated ${what}`, line);
    advance(end + marker.length);
  };
  const readName = (): string => {
    NAME.lastIndex = pos;
    const m = NAME.exec(text);
    if (!m) throw new XmlError('expected a name', line);
    advance(pos + m[0].length);
    return m[0];
  };
  const skipSpace = (): void => {
    const m = /[ \t\r\n]*/y;
    m.lastIndex = pos;
    advance(pos + (m.exec(text)?.[0].length ?? 0));
  };

  while (pos < text.length) {
    const lt = text.indexOf('<', pos);
    const textEnd = lt < 0 ? text.length : lt;
    const chunk = text.slice(pos, textEnd);
    if (chunk.trim() !== '') {
      if (stack.length === 0) throw new XmlError('text outside the root element', line);
      const el = stack[stack.length - 1];
      el.text = (el.text ?? '') + decodeEntities(chunk, line);
    }
    advance(textEnd);
    if (lt < 0) break;

    if (text.startsWith('<!--', pos)) {
      skipPast('-->', 'comment');
    } else if (text.startsWith('<![CDATA[', pos)) {
      if (stack.length === 0) throw new XmlError('CDATA outside the root element', line);
      const start = pos + 9;
      skipPast(']]>', 'CDATA section');
      const el = stack[stack.length - 1];
      el.text = (el.text ?? '') + text.slice(start, pos - 3);
    } else if (text.startsWith('<!DOCTYPE', pos)) {
      // A DOCTYPE can declare entities; IIS config never has one, so refuse rather than half-support it.
      throw new XmlError('DOCTYPE is not allowed', line);
    } else if (text.startsWith('<?', pos)) {
      skipPast('?>', 'processing instruction');
    } else if (text.startsWith('</', pos)) {
      advance(pos + 2);
      const name = readName();
      skipSpace();
      if (text[pos] !== '>') throw new XmlError(`malformed end tag </${name}`, line);
      advance(pos + 1);
      const open = stack.pop();
      if (!open || open.name !== name) throw new XmlError(`end tag </${name}> does not match <${open?.name ?? ''}>`, line);
    } else {
      advance(pos + 1);
      const el: XmlElement = { name: readName(), attrs: {}, children: [], line };
      for (;;) {
        const before = pos;
        skipSpace();
        if (text.startsWith('/>', pos) || text[pos] === '>') break;
        if (pos === before) throw new XmlError(`expected whitespace before attribute in <${el.name}>`, line);
        const attr = readName();
        skipSpace();
        if (text[pos] !== '=') throw new XmlError(`attribute ${attr} without value`, line);
        advance(pos + 1);
        skipSpace();
        const quote = text[pos];
        if (quote !== '"' && quote !== "'") throw new XmlError(`attribute ${attr} value not quoted`, line);
        const close = text.indexOf(quote, pos + 1);
        if (close < 0) throw new XmlError(`unterminated attribute ${attr}`, line);
        const raw = text.slice(pos + 1, close);
        if (raw.includes('<')) throw new XmlError(`"<" in attribute ${attr}`, line);
        if (attr in el.attrs) throw new XmlError(`duplicate attribute ${attr}`, line);
        el.attrs[attr] = decodeEntities(raw, line);
        advance(close + 1);
      }
      const selfClosing = text.startsWith('/>', pos);
      advance(pos + (selfClosing ? 2 : 1));
      const parent = stack[stack.length - 1];
      if (parent) parent.children.push(el);
      else if (root) throw new XmlError('more than one root element', line);
      else root = el;
      if (!selfClosing) {
        if (stack.length >= XML_LIMITS.maxDepth) throw new XmlError('elements nested too deeply', line);
        stack.push(el);
      }
    }
  }
  if (stack.length > 0) throw new XmlError(`unclosed element <${stack[stack.length - 1].name}>`, line);
  if (!root) throw new XmlError('no root element', line);
  return root;
}

/** Child elements with a given name (case-sensitive, as IIS is). */
export function childrenNamed(el: XmlElement, name: string): XmlElement[] {
  return el.children.filter((c) => c.name === name);
}

/** Follows a path of element names from `el`, returning every match at the end of the path. */
export function select(el: XmlElement, path: string[]): XmlElement[] {
  let cur = [el];
  for (const step of path) cur = cur.flatMap((e) => childrenNamed(e, step));
  return cur;
}

/** Escapes a string for use inside a double-quoted XML attribute. */
export function xmlAttr(s: string): string {
  return s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;');
}
