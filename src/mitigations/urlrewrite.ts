// IIS URL Rewrite inbound rules: the data model, reading them from config XML, and evaluating them against a
// request the way the module does (match url, then conditions, then action), so rules can be tested offline.
import { childrenNamed, type XmlElement } from '../parsers/xml.js';
import { linearRegex, LinearRegexError, type LinearRegex } from './linear-regex.js';
export type PatternSyntax = 'ECMAScript' | 'Wildcard' | 'ExactMatch';
export type MatchType = 'Pattern' | 'IsFile' | 'IsDirectory';

export interface RewriteCondition {
  input: string;
  pattern: string;
  matchType: MatchType;
  ignoreCase: boolean;
  negate: boolean;
}

export interface RewriteRule {
  name: string;
  enabled: boolean;
  patternSyntax: PatternSyntax;
  stopProcessing: boolean;
  matchUrl: string;
  matchIgnoreCase: boolean;
  matchNegate: boolean;
  logicalGrouping: 'MatchAll' | 'MatchAny';
  conditions: RewriteCondition[];
  /** AbortRequest, CustomResponse, Redirect, Rewrite or None. */
  action: string;
  /** For CustomResponse: the status code returned. */
  statusCode?: number;
}

/** A request as a client sends it. `uri` is the raw path and query, exactly as on the request line. */
export interface HttpRequest {
  uri: string;
  cookie?: string;
  headers?: Record<string, string>;
  https?: boolean;
}

export interface Evaluation {
  outcome: 'blocked' | 'passed';
  /** The rule that blocked, or the rule that stopped processing, if any. */
  rule: string | null;
}

/** Defaults of a rule as the IIS schema gives them, so data and parsed XML compare equal. */
export function rule(fields: Pick<RewriteRule, 'name' | 'conditions'> & Partial<RewriteRule>): RewriteRule {
  return {
    enabled: true,
    patternSyntax: 'ECMAScript',
    stopProcessing: false,
    matchUrl: '.*',
    matchIgnoreCase: true,
    matchNegate: false,
    logicalGrouping: 'MatchAll',
    action: 'AbortRequest',
    ...fields,
  };
}

export function condition(input: string, pattern: string): RewriteCondition {
  return { input, pattern, matchType: 'Pattern', ignoreCase: true, negate: false };
}

const bool = (v: string | undefined, dflt: boolean): boolean => (v === undefined ? dflt : v.trim().toLowerCase() === 'true');

function patternSyntax(v: string | undefined): PatternSyntax {
  const s = (v ?? '').trim().toLowerCase();
  if (s === 'wildcard') return 'Wildcard';
  if (s === 'exactmatch') return 'ExactMatch';
  return 'ECMAScript'; // also "Regular Expressions" as the PowerShell provider spells it
}

function matchType(v: string | undefined): MatchType {
  const s = (v ?? '').trim().toLowerCase();
  if (s === 'isfile' || s === '1') return 'IsFile';
  if (s === 'isdirectory' || s === '2') return 'IsDirectory';
  return 'Pattern';
}

/** Reads the `<rule>` children of a `<rules>` (or `<globalRules>`) element. `<clear/>`/`<remove/>` are applied. */
export function rulesFromXml(rulesEl: XmlElement): RewriteRule[] {
  let out: RewriteRule[] = [];
  for (const el of rulesEl.children) {
    if (el.name === 'clear') out = [];
    else if (el.name === 'remove') out = out.filter((r) => r.name !== el.attrs.name);
    else if (el.name === 'rule') out.push(ruleFromXml(el));
  }
  return out;
}

function ruleFromXml(el: XmlElement): RewriteRule {
  const match = childrenNamed(el, 'match')[0];
  const conds = childrenNamed(el, 'conditions')[0];
  const action = childrenNamed(el, 'action')[0];
  const status = action?.attrs.statusCode;
  return {
    name: el.attrs.name ?? '',
    enabled: bool(el.attrs.enabled, true),
    patternSyntax: patternSyntax(el.attrs.patternSyntax),
    stopProcessing: bool(el.attrs.stopProcessing, false),
    matchUrl: match?.attrs.url ?? '',
    matchIgnoreCase: bool(match?.attrs.ignoreCase, true),
    matchNegate: bool(match?.attrs.negate, false),
    logicalGrouping: (conds?.attrs.logicalGrouping ?? '').toLowerCase() === 'matchany' ? 'MatchAny' : 'MatchAll',
    conditions: (conds ? childrenNamed(conds, 'add') : []).map((c) => ({
      input: c.attrs.input ?? '',
      pattern: c.attrs.pattern ?? '',
      matchType: matchType(c.attrs.matchType),
      ignoreCase: bool(c.attrs.ignoreCase, true),
      negate: bool(c.attrs.negate, false),
    })),
    action: action?.attrs.type ?? 'None',
    ...(status !== undefined && /^\d{3}$/.test(status) ? { statusCode: Number(status) } : {}),
  };
}

/**
 * Patterns read from evidence are attacker-controlled: they are evaluated with exhunt's linear-time matcher, which
 * refuses back-references, lookbehinds and oversized patterns. True when `pattern` can be evaluated that way.
 */
export function isSafePattern(pattern: string): boolean {
  return unsafeReason(pattern) === null;
}

/** Why a pattern cannot be evaluated in linear time, or null when it can. */
export function unsafeReason(pattern: string): string | null {
  try {
    linearRegex(pattern, true);
    return null;
  } catch (err) {
    if (err instanceof LinearRegexError) return err.message;
    throw err;
  }
}

/** The linear-time matcher for one pattern as IIS would apply it. Throws LinearRegexError. */
function linearPattern(pattern: string, syntax: PatternSyntax, ignoreCase: boolean): LinearRegex {
  if (syntax === 'ExactMatch') return linearRegex(`^${escapeRegExp(pattern)}$`, ignoreCase);
  if (syntax === 'Wildcard') return linearRegex(`^${pattern.split('*').map(escapeRegExp).join('.*')}$`, ignoreCase);
  return linearRegex(pattern, ignoreCase);
}

/** Compiles a URL Rewrite pattern to a JS RegExp (IIS "ECMAScript" regexes are JS-compatible). Throws if invalid. */
export function compilePattern(pattern: string, syntax: PatternSyntax, ignoreCase: boolean): RegExp {
  const flags = ignoreCase ? 'i' : '';
  if (syntax === 'ExactMatch') return new RegExp(`^${escapeRegExp(pattern)}$`, flags);
  if (syntax === 'Wildcard') return new RegExp(`^${pattern.split('*').map(escapeRegExp).join('(.*)')}$`, flags);
  return new RegExp(pattern, flags);
}

function escapeRegExp(s: string): string {
  return s.replace(/[.*+?^${}()|[\]\\/]/g, '\\$&');
}

/** Percent-decoding as the UrlDecode rewrite function does it; malformed escapes are left as they are. */
export function urlDecode(s: string): string {
  return s.replace(/(?:%[0-9A-Fa-f]{2})+/g, (run) => {
    try {
      return decodeURIComponent(run);
    } catch {
      return Buffer.from(run.replace(/%/g, ''), 'hex').toString('latin1');
    }
  });
}

function serverVariables(req: HttpRequest): Record<string, string> {
  const q = req.uri.indexOf('?');
  const path = q < 0 ? req.uri : req.uri.slice(0, q);
  const vars: Record<string, string> = {
    REQUEST_URI: req.uri,
    URL: urlDecode(path),
    QUERY_STRING: q < 0 ? '' : req.uri.slice(q + 1),
    HTTP_COOKIE: req.cookie ?? '',
    HTTPS: req.https === false ? 'off' : 'on',
  };
  for (const [k, v] of Object.entries(req.headers ?? {})) vars[`HTTP_${k.toUpperCase().replace(/-/g, '_')}`] = v;
  return vars;
}

const FUNCTIONS: Record<string, (s: string) => string> = {
  URLDECODE: urlDecode,
  URLENCODE: encodeURIComponent,
  TOLOWER: (s) => s.toLowerCase(),
};

/** Expands `{VAR}` and `{Function:{VAR}}` references in a condition input. Unknown variables are empty. */
export function expandInput(input: string, vars: Record<string, string>): string {
  let out = input;
  for (let guard = 0; guard < 8 && /\{[^{}]*\}/.test(out); guard++) {
    out = out.replace(/\{([^{}:]*)(?::([^{}]*))?\}/g, (_all, head: string, arg: string | undefined) => {
      if (arg === undefined) return vars[head.toUpperCase()] ?? '';
      const fn = FUNCTIONS[head.toUpperCase()];
      return fn ? fn(arg) : '';
    });
  }
  return out;
}

function conditionMatches(c: RewriteCondition, syntax: PatternSyntax, vars: Record<string, string>): boolean {
  // IsFile/IsDirectory need the server's disk: offline they never match.
  const hit = c.matchType === 'Pattern' && linearPattern(c.pattern, syntax, c.ignoreCase).test(expandInput(c.input, vars));
  return hit !== c.negate;
}

/**
 * Runs inbound rules in order against one request, in time linear in the request (patterns come from evidence).
 * Throws LinearRegexError for a pattern the linear matcher refuses (see isSafePattern). Only AbortRequest and CustomResponse block. `scope` is the URL
 * path the rules are configured at (`/` for a site root, `/autodiscover/` for a virtual directory): requests outside
 * it never meet the rules, and inside it the match url sees the path relative to it.
 */
export function evaluate(rules: readonly RewriteRule[], req: HttpRequest, scope = '/'): Evaluation {
  const vars = serverVariables(req);
  const lower = vars.URL.toLowerCase();
  const base = scope.toLowerCase();
  if (!(lower.startsWith(base) || `${lower}/` === base)) return { outcome: 'passed', rule: null };
  const urlPath = vars.URL.slice(Math.min(base.length, vars.URL.length));
  for (const r of rules) {
    if (!r.enabled) continue;
    const urlHit = linearPattern(r.matchUrl, r.patternSyntax, r.matchIgnoreCase).test(urlPath) !== r.matchNegate;
    if (!urlHit) continue;
    const results = r.conditions.map((c) => conditionMatches(c, r.patternSyntax, vars));
    const condHit = r.conditions.length === 0 || (r.logicalGrouping === 'MatchAny' ? results.some(Boolean) : results.every(Boolean));
    if (!condHit) continue;
    if (r.action === 'AbortRequest' || r.action === 'CustomResponse') return { outcome: 'blocked', rule: r.name };
    if (r.stopProcessing) return { outcome: 'passed', rule: r.name };
  }
  return { outcome: 'passed', rule: null };
}

/** Every pattern of a rule, so callers can check them before evaluating. */
export function rulePatterns(r: RewriteRule): string[] {
  return [r.matchUrl, ...r.conditions.filter((c) => c.matchType === 'Pattern').map((c) => c.pattern)];
}
