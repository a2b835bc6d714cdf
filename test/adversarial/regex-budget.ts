// Every regex exhunt can run over evidence, with where it comes from, and a timing harness that feeds each one
// hostile strings built from its own literals. Shared by test/adversarial/regexes.test.ts and scripts/fuzz.mjs.
import { readdirSync, readFileSync } from 'node:fs';
import { join, relative } from 'node:path';
import ts from 'typescript';

export interface NamedRegex {
  /** Where it is: `src/rules/evtx.ts:314 (PX-06)`, `data/iocs/file_artefacts.csv`, … */
  name: string;
  re: RegExp;
}

const REPO = join(import.meta.dirname, '..', '..');

function tsFiles(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((d) =>
    d.isDirectory() ? tsFiles(join(dir, d.name)) : d.name.endsWith('.ts') ? [join(dir, d.name)] : [],
  );
}

/** The rule id (`id: 'PX-06'`) and the declaration around a node, to name a regex by what it serves. */
function owner(node: ts.Node): string {
  let decl: string | null = null;
  for (let n: ts.Node | undefined = node.parent; n; n = n.parent) {
    if (ts.isObjectLiteralExpression(n)) {
      for (const p of n.properties) {
        if (ts.isPropertyAssignment(p) && p.name.getText() === 'id' && ts.isStringLiteral(p.initializer)) return decl ? `${p.initializer.text} ${decl}` : p.initializer.text;
      }
    }
    if ((ts.isVariableDeclaration(n) || ts.isFunctionDeclaration(n) || ts.isMethodDeclaration(n)) && n.name) decl ??= n.name.getText();
  }
  return decl ?? 'module';
}

/**
 * Regexes whose input exhunt bounds before matching (the bound, and why), and sources that never see evidence.
 * Everything else must be linear up to 1 MB.
 */
export const INPUT_BOUNDS: Array<{ name: RegExp; max: number; why: string }> = [
  { name: /^src\/report\/rules-catalog\.ts/, max: 0, why: 'reads exhunt\'s own rule descriptions (docs/rules.md), never evidence' },
];

/** Every regex literal in src/ (parsers, rules, engine, evidence, response, report), compiled as written. */
export function sourceRegexes(): NamedRegex[] {
  const out: NamedRegex[] = [];
  for (const file of tsFiles(join(REPO, 'src'))) {
    const sf = ts.createSourceFile(file, readFileSync(file, 'utf8'), ts.ScriptTarget.ES2022, true);
    const visit = (node: ts.Node): void => {
      if (node.kind === ts.SyntaxKind.RegularExpressionLiteral) {
        const text = node.getText(sf);
        const slash = text.lastIndexOf('/');
        const line = sf.getLineAndCharacterOfPosition(node.getStart(sf)).line + 1;
        out.push({ name: `${relative(REPO, file)}:${line} (${owner(node)}) ${text.slice(0, 80)}`, re: new RegExp(text.slice(1, slash), text.slice(slash + 1)) });
      }
      ts.forEachChild(node, visit);
    };
    visit(sf);
  }
  return out;
}

/** Literal runs of a regex source (escapes resolved, classes and groups as breaks): the words an attacker repeats. */
export function literalsOf(source: string): string[] {
  const out: string[] = [];
  let cur = '';
  const flush = () => {
    if (cur.length >= 2) out.push(cur);
    cur = '';
  };
  for (let i = 0; i < source.length; i++) {
    const c = source[i];
    if (c === '\\') {
      const n = source[++i] ?? '';
      if (/[dDwWsSbBnrtfvux0-9ck]/.test(n)) flush();
      else cur += n;
    } else if (c === '[') {
      flush();
      while (i < source.length && source[i] !== ']') i += source[i] === '\\' ? 2 : 1;
    } else if ('()|.^$'.includes(c)) flush();
    else if ('*+?{'.includes(c)) {
      // the quantified character is optional: keep the run before it
      cur = cur.slice(0, -1);
      flush();
      if (c === '{') while (i < source.length && source[i] !== '}') i++;
    } else cur += c;
  }
  flush();
  return [...new Set(out)];
}

const SEPARATORS = [' ', '\t', '/', '\\', '"', "'", ',', '=', '.', '%', '#', '@', '<', '>', '&', ':', '-', 'a', '0', '\n', '\r\n', '\u00a0'];

/** The top-level alternatives of a regex source (`a|b|c`), outside groups and classes. */
export function alternativesOf(source: string): string[] {
  const out: string[] = [];
  let depth = 0;
  let start = 0;
  for (let i = 0; i < source.length; i++) {
    const c = source[i];
    if (c === '\\') i++;
    else if (c === '[') while (i < source.length && source[i] !== ']') i += source[i] === '\\' ? 2 : 1;
    else if (c === '(') depth++;
    else if (c === ')') depth--;
    else if (c === '|' && depth === 0) {
      out.push(source.slice(start, i));
      start = i + 1;
    }
  }
  out.push(source.slice(start));
  return out;
}

/** Units whose repetition makes a hostile input for `source`: its literals repeated, with separators, truncated. */
export function hostileUnits(source: string): string[] {
  const lits = literalsOf(source).slice(0, 8);
  const units = new Set<string>(SEPARATORS);
  // Every alternative's own literals repeated (a long alternation's later branches are past the first eight:
  // `%40` of an `(?:@|%40)(?:…|%[0-9a-f]{2})+` branch made a rule's line test quadratic).
  const alternatives = alternativesOf(source);
  if (alternatives.length > 1) for (const a of alternatives) for (const l of literalsOf(a)) units.add(l);
  for (const l of lits) {
    units.add(l);
    units.add(l.slice(0, -1));
    for (const s of SEPARATORS) units.add(l + s);
  }
  if (lits.length > 1) {
    units.add(lits.join(''));
    units.add(lits.join(' '));
    units.add(lits.join('').slice(0, -1));
  }
  return [...units].filter((u) => u.length > 0);
}

/** Hostile inputs: a literal then a long separator run (the backtracking shape), and pure repetitions. */
export function hostileInput(source: string, unit: string, size: number): string[] {
  const reps = Math.max(1, Math.ceil(size / unit.length));
  const lits = literalsOf(source);
  const first = lits[0] ?? '';
  return [unit.repeat(reps).slice(0, size), (first + unit.repeat(reps)).slice(0, size)];
}

/** Runs the regex as callers do: every match for global/sticky ones, else one search. */
export function runOnce(re: RegExp, input: string): number {
  const t0 = performance.now();
  if (re.global || re.sticky) {
    re.lastIndex = 0;
    for (let n = 0; n < 1e6; n++) {
      const m = re.exec(input);
      if (!m) break;
      if (m[0] === '') re.lastIndex++;
    }
    re.lastIndex = 0;
  } else re.exec(input);
  return performance.now() - t0;
}

/** Time allowed for one run over `size` characters: generous for a shared CI machine, far below super-linear. */
export const budgetMs = (size: number): number => 60 + size * 0.0004;

export interface Slow {
  name: string;
  size: number;
  ms: number;
  input: string;
}

/** Fastest of three runs: a busy machine slows some runs, never speeds one up. */
function bestOf3(run: () => number): number {
  return Math.min(run(), run(), run());
}

/**
 * Whether a run over budget is the work's fault, not the machine's: time grows more than linearly. A quarter of the
 * input must take over a ratio's worth less time (linear: about 4x less; quadratic: 16x). Both are timed back to
 * back, best of three, so a shared, loaded machine slows both alike.
 */
function outgrows(ms: number, size: number, full: () => number, quarter: () => number): boolean {
  if (ms <= budgetMs(size)) return false;
  // Twice, so a burst of load on a shared machine during one measurement does not fail linear work.
  for (let trial = 0; trial < 2; trial++) {
    const f = bestOf3(full);
    if (f > HANG_MS) return true;
    if (f <= budgetMs(size) || f <= 8 * Math.max(bestOf3(quarter), 0.05)) return false;
  }
  return true;
}

function superLinear(re: RegExp, input: string, ms: number): boolean {
  const quarterInput = input.slice(0, Math.ceil(input.length / 4));
  return outgrows(ms, input.length, () => runOnce(re, input), () => runOnce(re, quarterInput));
}

/**
 * The same budget for any work on hostile input (a rule's `match`, a parser): `make(size)` builds the input, `run`
 * does the work, at sizes four times apart from 256 up to `maxSize`. Returns the first size over budget whose time
 * also grew more than linearly from a quarter of it, or null. No fixed time limit: a slow machine alone never fails it.
 */
export function superLinearWork<T>(make: (size: number) => T, run: (input: T) => unknown, maxSize: number): { size: number; ms: number } | null {
  const time = (input: T) => {
    const t0 = performance.now();
    run(input);
    return performance.now() - t0;
  };
  for (let size = 256; size <= maxSize; size *= 4) {
    const input = make(size);
    const quarter = make(size / 4);
    const ms = time(input);
    if (outgrows(ms, size, () => time(input), () => time(quarter))) return { size, ms };
  }
  return null;
}

/** Over this a run fails whatever its growth: a hang guard for one regex on one input. */
const HANG_MS = 20_000;

/**
 * Times one regex on its hostile inputs, growing them gently (an exponential shape must show at a few dozen
 * repetitions, before it can hang) up to `maxSize`; stops at the first run over budget whose time also grows more
 * than linearly with the input (a slow machine alone never fails it).
 */
export function timeRegex(r: NamedRegex, maxSize: number): Slow | null {
  const units = hostileUnits(r.re.source);
  const steps = [8, 12, 16, 20, 24, 28, 32, 48, 64];
  let worst: { unit: string; ms: number } = { unit: units[0], ms: -1 };
  for (const unit of units) {
    const sizes = [...steps.map((k) => k * unit.length), 4096, 32768].filter((n) => n <= maxSize);
    const mid = sizes[sizes.length - 1];
    for (const size of sizes) {
      for (const input of hostileInput(r.re.source, unit, size)) {
        const ms = runOnce(r.re, input);
        if (superLinear(r.re, input, ms)) return { name: r.name, size: input.length, ms, input: input.slice(0, 200) };
        if (size === mid && ms > worst.ms) worst = { unit, ms };
      }
    }
  }
  // The slowest unit at 32 KB is run at full size.
  for (const size of [262144, maxSize].filter((n) => n > 32768 && n <= maxSize)) {
    for (const input of hostileInput(r.re.source, worst.unit, size)) {
      const ms = runOnce(r.re, input);
      if (superLinear(r.re, input, ms)) return { name: r.name, size: input.length, ms, input: input.slice(0, 200) };
    }
  }
  return null;
}
