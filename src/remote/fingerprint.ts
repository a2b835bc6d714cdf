// Version evidence and Exchange markers in responses (all of it attacker-controlled text).
import { parseBuild, type Build } from '../builds/parse.js';
import { header, type Header } from './http.js';

export interface BuildClue {
  build: Build;
  source: 'exporttool' | 'X-OWA-Version' | 'owa-auth-path';
  raw: string;
}

const OWA_AUTH_PATH = /\/owa\/auth\/(\d{1,2}\.\d{1,2}\.\d{1,5})\//i;
const MANIFEST_VERSION = /\bversion\s*=\s*"(\d{1,2}\.\d{1,2}\.\d{1,5}\.\d{1,5})"/i;
const MARKER_HEADERS = new Set(['x-feserver', 'x-beserver', 'x-calculatedbetarget', 'x-diaginfo', 'x-backendhttpstatus']);

/** `X-OWA-Version` carries the full build (with SU) when the server sends it. */
export function owaVersionHeader(headers: Header[]): BuildClue | null {
  const v = header(headers, 'x-owa-version');
  const build = v ? parseBuild(v) : null;
  return build && v ? { build, source: 'X-OWA-Version', raw: v } : null;
}

/** `/owa/auth/15.1.2176/...` in the logon page: the CU only. */
export function owaAuthPath(body: string): BuildClue | null {
  const m = OWA_AUTH_PATH.exec(body);
  const build = m ? parseBuild(m[1], { cuOnly: true }) : null;
  return build && m ? { build, source: 'owa-auth-path', raw: m[0] } : null;
}

/** ECP export-tool ClickOnce manifest: `<assemblyIdentity ... version="15.x.y.z">`, the full build. */
export function exportToolVersion(body: string): BuildClue | null {
  const at = body.indexOf('<assemblyIdentity');
  if (at < 0) return null;
  const end = body.indexOf('>', at);
  // Bounded slice: the regex never scans more than one tag.
  const tag = body.slice(at, end < 0 ? at + 1000 : Math.min(end, at + 1000));
  const m = MANIFEST_VERSION.exec(tag);
  const build = m ? parseBuild(m[1]) : null;
  return build && m ? { build, source: 'exporttool', raw: m[1] } : null;
}

/** Headers only Exchange (or its front end) sends. */
export function hasExchangeHeader(headers: Header[]): boolean {
  return headers.some(([k]) => {
    const n = k.toLowerCase();
    return MARKER_HEADERS.has(n) || n.startsWith('x-owa-');
  });
}
