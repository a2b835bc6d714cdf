// The rendered event: a small XML tree (elements, text, processing instructions) shared by the BinXML reader and the
// XML-export reader, plus the XML serialiser used by `exhunt evtx dump --xml`.

export interface XmlAttr {
  name: string;
  value: string;
}

export interface XmlElement {
  name: string;
  attrs: XmlAttr[];
  children: XmlNode[];
}

export interface XmlPI {
  k: 'pi';
  target: string;
  data: string;
}

/** Text is stored unescaped (entity and character references already resolved). */
export type XmlNode = string | XmlElement | XmlPI;

/**
 * What reading an event needs of an element: a built one (BuiltElement), or a template's element read in place
 * with its record's values (binxml.ts), so that a binary record need not be built into a tree to be read.
 */
export interface ElementView {
  readonly name: string;
  /** The attributes as rendered. */
  attributes(): readonly XmlAttr[];
  /** All text under the element, in document order. */
  text(): string;
  /** The child elements, in order. */
  elements(): readonly ElementView[];
}

export class BuiltElement implements ElementView {
  constructor(private readonly e: XmlElement) {}

  get name(): string {
    return this.e.name;
  }

  attributes(): readonly XmlAttr[] {
    return this.e.attrs;
  }

  text(): string {
    return textOf(this.e);
  }

  elements(): readonly ElementView[] {
    const out: ElementView[] = [];
    for (const c of this.e.children) if (typeof c !== 'string' && isElement(c)) out.push(new BuiltElement(c));
    return out;
  }
}

export function isElement(n: XmlNode): n is XmlElement {
  return typeof n !== 'string' && !('k' in n);
}

export function attrOf(e: XmlElement, name: string): string | undefined {
  for (const a of e.attrs) if (a.name === name) return a.value;
  return undefined;
}

export function childOf(e: XmlElement, name: string): XmlElement | undefined {
  for (const c of e.children) if (typeof c !== 'string' && isElement(c) && c.name === name) return c;
  return undefined;
}

/** All text under an element, in document order. */
export function textOf(e: XmlElement): string {
  return textOfNodes(e.children);
}

/** All text in a node list (processing instructions excluded), in document order. */
export function textOfNodes(c: readonly XmlNode[]): string {
  if (c.length === 1 && typeof c[0] === 'string') return c[0];
  let s = '';
  for (const n of c) {
    if (typeof n === 'string') s += n;
    else if (isElement(n)) s += textOfNodes(n.children);
  }
  return s;
}

/**
 * The five predefined XML entities (BinXML entity references and XML exports both use them). A Map, not an object
 * literal: names come from evidence, and `constructor` or `toString` must not resolve to Object.prototype members.
 */
export const XML_ENTITIES: ReadonlyMap<string, string> = new Map([
  ['amp', '&'],
  ['lt', '<'],
  ['gt', '>'],
  ['quot', '"'],
  ['apos', "'"],
]);

const ESC: Record<string, string> = { '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;' };
/** Markup characters, and control and direction characters as references (a terminal must not run them). */
const escapeXml = (s: string): string =>
  s.replace(/[&<>"\u0000-\u0008\u000b\u000c\u000e-\u001f\u007f-\u009f\u061c\u200e\u200f\u202a-\u202e\u2066-\u2069]/g, (c) => ESC[c] ?? `&#x${c.charCodeAt(0).toString(16).toUpperCase()};`);

/** Serialises nodes as indented XML (elements with only element children get one child per line). */
export function renderXml(nodes: readonly XmlNode[], indent = ''): string {
  let out = '';
  for (const n of nodes) {
    if (typeof n === 'string') out += escapeXml(n);
    else if (!isElement(n)) out += `${indent}<?${escapeXml(n.target)} ${escapeXml(n.data)}?>\n`;
    else out += renderElement(n, indent);
  }
  return out;
}

function renderElement(e: XmlElement, indent: string): string {
  const name = escapeXml(e.name);
  let open = `${indent}<${name}`;
  for (const a of e.attrs) open += ` ${escapeXml(a.name)}="${escapeXml(a.value)}"`;
  if (e.children.length === 0) return `${open}/>\n`;
  const elementsOnly = e.children.every((c) => typeof c !== 'string');
  if (elementsOnly) return `${open}>\n${renderXml(e.children, indent + '  ')}${indent}</${name}>\n`;
  let inner = '';
  for (const c of e.children) inner += typeof c === 'string' ? escapeXml(c) : renderXml([c], '').replace(/\n$/, '');
  return `${open}>${inner}</${name}>\n`;
}
