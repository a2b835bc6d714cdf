// docs/rules.md, the rule catalogue: it matches the rules' metadata, every rule is documented and sourced, and every
// rule id the example scans report can be looked up in it.
import { readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { scan } from '../src/engine/scan.js';
import { catalogIds, catalogRules, catalogSections, gradesOf, mdCell, rulesCatalog } from '../src/report/rules-catalog.js';
import { gradedFinding, hitToFinding } from '../src/rules/finding.js';
import { undeclaredMeanings } from './support/catalogue.js';
import { FILE_RULES } from '../src/rules/files/rules.js';
import { SHELL_KEYWORDS, SIGNATURES } from '../src/rules/files/signatures.js';
import type { RuleMeta } from '../src/rules/types.js';

const REPO = join(import.meta.dirname, '..');
const EXAMPLES = join(REPO, 'examples', 'evidence');
const catalogue = rulesCatalog();
const rules = catalogRules();
const defined = new Set(rules.map((r) => r.id));
const grades = rules.flatMap((r) => gradesOf(r));

const dupes = (ids: string[]) => ids.filter((id, i) => ids.indexOf(id) !== i);
const meta = (over: Partial<RuleMeta>): RuleMeta => ({ id: 'TT-01', title: 't', cves: [], severity: 'low', kind: 'ioc', references: ['r'], description: '', ...over });

describe('docs/rules.md', () => {
  it('matches the rules (regenerate with `npm run rules-doc`)', () => {
    const committed = readFileSync(join(REPO, 'docs', 'rules.md'), 'utf8');
    expect(committed, 'docs/rules.md is stale: run `npm run rules-doc` and commit docs/rules.md').toBe(catalogue);
  });

  it('prints no decoded signature term (antivirus flags plain web-shell text)', () => {
    const terms = [...SIGNATURES.flatMap((s) => s.when.flatMap((w) => [...(w.all ?? []), ...(w.any ?? []), ...(w.none ?? [])])), ...SHELL_KEYWORDS]
      .map((b64) => Buffer.from(b64, 'base64').toString('utf8').replace(/^re:/, '').toLowerCase())
      .filter((t) => t.length >= 16); // short terms are ordinary words ("jscript", "eval(") that descriptions use
    const doc = catalogue.toLowerCase();
    expect(terms.length).toBeGreaterThan(10);
    expect(terms.filter((t) => doc.includes(t))).toEqual([]);
  });

  it('has one table per evidence source, every rule in at least one', () => {
    const sections = catalogSections();
    expect(sections.map((s) => s.title)).toEqual(['HttpProxy logs', 'ECP Server logs', 'Remote PowerShell cmdlet logs', 'Remote PowerShell HTTP logs (Rps_Http)', 'OABGeneratorLog', 'IIS logs', 'Defender support log (MPLog)', 'Event logs (EVTX)', 'Files on disk', 'Exposure (Exchange build)', 'Exposure (configuration controls)', 'Mitigation state (IIS configuration)']);
    const listed = new Set(sections.flatMap((s) => s.rules.map((r) => r.id)));
    expect([...defined].filter((id) => !listed.has(id))).toEqual([]);
    for (const s of sections) expect(catalogue).toContain(`## ${s.title}\n`);
  });
});

describe('rule metadata', () => {
  it('gives every rule a unique id across all sources, graded sub-rules included', () => {
    expect(dupes(rules.map((r) => r.id))).toEqual([]);
    // A grade is picked by a name unique in its rule; its id is the rule's own, a sub-rule no other rule declares,
    // or another rule's id under that rule's title (PS-02 settled as PNS-01).
    for (const r of rules) expect(dupes(gradesOf(r).map((g) => g.name)), r.id).toEqual([]);
    const byId = new Map(rules.map((r) => [r.id, r]));
    const foreign = grades.filter((g) => g.id !== g.parent && byId.has(g.id));
    // PS-15 and OW-05 judge HttpProxy rows by the IIS rules themselves: every grade they report is an IIS rule's.
    const front = ['PS-15', 'OW-05'];
    expect(foreign.filter((g) => !front.includes(g.parent)).map((g) => `${g.parent}>${g.id}`)).toEqual(['PS-02>PNS-01', 'PS-02>PNS-01']);
    expect([...new Set(foreign.filter((g) => front.includes(g.parent)).map((g) => `${g.parent}>${g.id}`))]).toEqual(
      ['PS-01', 'PS-02', 'PNS-01', 'PS-03', 'PS-04', 'PS-05', 'PNS-02', 'PNS-04'].map((id) => `PS-15>${id}`).concat(['OW-05>OW-01', 'OW-05>OW-02']),
    );
    for (const g of foreign) expect(g.title).toBe(byId.get(g.id)!.title);
    const parents = new Map<string, Set<string>>();
    for (const g of grades) if (!byId.has(g.id)) parents.set(g.id, new Set([...(parents.get(g.id) ?? []), g.parent]));
    expect([...parents].filter(([, p]) => p.size > 1)).toEqual([]);
  });

  it('gives every rule a title, a description and at least one reference', () => {
    const missing = rules.filter((r) => !r.title.trim() || !r.description.trim() || r.references.length === 0 || r.references.some((x) => !x.trim()));
    expect(missing.map((r) => r.id)).toEqual([]);
  });

  it('keys the file rules by their ids', () => {
    for (const [key, rule] of Object.entries(FILE_RULES)) expect(rule.id).toBe(key);
  });

  it('lists the grades declared on a rule right under it, with their own title, severity and kind', () => {
    expect(grades.filter((g) => g.parent === 'PL-01').map((g) => g.name)).toEqual(['PL-02', 'PL-02 attempt', 'PL-03', 'PL-04', 'PL-05', 'PL-23', 'PL-23 attempt', 'PL-08']);
    expect(catalogue).toMatch(/\n\| PX-02 \|[^\n]*\n\| PX-03 \| Exchange worker process spawned a shell or recon tool \| — \| critical \/ webshell \| graded from PX-02 when /);
    expect(catalogue).toMatch(/\n\| WS-40 \| Request to a web shell in an Exchange drop zone \| — \| critical \/ webshell \| graded when it answered 2xx to a POST/);
    const rule = meta({ cves: ['CVE-1'], grades: [{ id: 'TT-02', title: 't2', severity: 'high', kind: 'attempt', when: 'bad' }, { as: 'TT-01 worse', severity: 'critical', kind: 'ioc', when: 'worse' }] });
    expect(gradesOf(rule)).toEqual([
      { id: 'TT-02', name: 'TT-02', title: 't2', severity: 'high', kind: 'attempt', cves: ['CVE-1'], when: 'bad', parent: 'TT-01' },
      { id: 'TT-01', name: 'TT-01 worse', title: 't', severity: 'critical', kind: 'ioc', cves: ['CVE-1'], when: 'worse', parent: 'TT-01' },
    ]);
  });

  it('gives a finding the meaning its rule declares: a hit names a grade, never its own id, title or severity', () => {
    const rule = meta({ grades: [{ as: 'TT-01 worse', severity: 'critical', kind: 'exploitation', when: 'worse' }], knownClients: true });
    const rec = { format: 'iis', path: 'x.log', line: 3, time: null };
    expect(hitToFinding(rule, { summary: 's', evidence: {} }, rec)).toMatchObject({ rule: 'TT-01', title: 't', severity: 'low', kind: 'ioc' });
    expect(hitToFinding(rule, { summary: 's', evidence: {}, grade: 'TT-01 worse' }, rec)).toMatchObject({ rule: 'TT-01', title: 't', severity: 'critical', kind: 'exploitation' });
    expect(hitToFinding(rule, { summary: 's', evidence: {}, grade: 'TT-01 worse', client: 'probe' }, rec)).toMatchObject({ severity: 'info', kind: 'scan' });
    expect(() => hitToFinding(rule, { summary: 's', evidence: {}, grade: 'TT-09' }, rec)).toThrow(/undeclared grade TT-09/);
    // Matchers cannot set a meaning: RuleHit has no rule, title, severity, kind or cves (the compiler checks it).
  });

  it('gives file and host findings the meaning their rule declares too, and throws on an undeclared grade', () => {
    const rule = meta({ grades: [{ as: 'TT-01 other', title: 't other', severity: 'high', kind: 'webshell', when: 'other' }] });
    const detail = { time: null, client_ip: null, source: { path: 'x.aspx' }, summary: 's', evidence: {} };
    expect(gradedFinding(rule, undefined, 'Files', detail)).toMatchObject({ rule: 'TT-01', title: 't', severity: 'low', kind: 'ioc', lane: 'Files' });
    expect(gradedFinding(rule, 'TT-01 other', 'Host', detail)).toMatchObject({ title: 't other', severity: 'high', kind: 'webshell', lane: 'Host' });
    expect(() => gradedFinding(rule, 'TT-01 worse', 'Files', detail)).toThrow(/undeclared grade TT-01 worse/);
  });

  it('declares every rule id the source can emit (static check of `rule:` literals and file-sweep ids)', () => {
    const ids = catalogIds();
    const files = (dir: string): string[] =>
      readdirSync(dir, { withFileTypes: true }).flatMap((e) => (e.isDirectory() ? files(join(dir, e.name)) : e.name.endsWith('.ts') ? [join(dir, e.name)] : []));
    const emitted = new Map<string, string>();
    for (const file of [...files(join(REPO, 'src', 'rules')), ...files(join(REPO, 'src', 'engine'))]) {
      const text = readFileSync(file, 'utf8');
      // `rule: 'PL-02'`, `rule: um ? 'PL-34' : … 'PX-11'`, `add(ctx, 'WS-08', …)` (the file sweep).
      for (const m of text.matchAll(/\brule: ([^,}\n]+)|\badd\(ctx, ('[^']+')/g))
        for (const id of (m[1] ?? m[2]).matchAll(/'([A-Z]{2,4}(?:-[A-Z0-9]+)*[a-z]?)'/g)) emitted.set(id[1], file.slice(REPO.length + 1));
    }
    expect(emitted.size).toBeGreaterThan(25);
    expect([...emitted].filter(([id]) => !ids.has(id))).toEqual([]);
  });

  it('escapes Markdown in cells', () => {
    expect(mdCell('a|b <build> C:\\x_y *')).toBe('a\\|b \\<build\\> C:\\\\x\\_y \\*');
  });
});

describe('example scans', () => {
  it('report only rule ids the catalogue lists, each with a declared title, severity and kind', async () => {
    const hosts = readdirSync(EXAMPLES).sort().map((h) => join(EXAMPLES, h));
    const report = await scan({ paths: hosts, jobs: 1 });
    const findings = report.hosts.flatMap((h) => h.findings);
    expect(undeclaredMeanings(findings)).toEqual([]);
    // The proof covers every lane: record rules, the file sweep (content signatures) and host rules (EXP-01).
    expect(new Set(findings.map((f) => f.lane))).toEqual(new Set(['HttpProxy', 'ECP', 'IIS', 'OABGenerator', 'Files', 'Host']));
    const seen = [...new Set(report.hosts.flatMap((h) => h.findings.map((f) => f.rule)))].sort();
    expect(seen.length).toBeGreaterThan(10);
    const ids = catalogIds();
    expect(seen.filter((id) => !ids.has(id) || !catalogue.includes(`\n| ${id} |`))).toEqual([]);
  });
});

describe('fixture scans with configuration and web-shell files', () => {
  it('give every configuration, mitigation, exposure and file finding a declared title, severity and kind', async () => {
    // exchange-config: every EXP-* control and the OWA CSP mitigation; external: real web shells outside web folders
    // (signatures graded high where the page cannot run, WS-31 keyword grades).
    const report = await scan({ paths: ['exchange-config', 'external'].map((d) => join(REPO, 'test', 'fixtures', d)), jobs: 1 });
    const findings = report.hosts.flatMap((h) => h.findings);
    expect(undeclaredMeanings(findings)).toEqual([]);
    const rules = new Set(findings.map((f) => f.rule));
    for (const id of ['EXP-01', 'EXP-EP', 'EXP-AMSI', 'EXP-SDS', 'EXP-EEMS', 'EXP-HYBRID', 'EXP-DLDOM', 'EXP-IISMOD', 'EXP-TOKEN', 'MIT-OWA-CSP', 'WS-21', 'WS-31', 'WS-33', 'PL-29']) expect(rules).toContain(id);
    // Signature hits in files the server would not run: the declared "not live" grade (high), not the signature's own.
    expect(findings.filter((f) => f.rule === 'WS-21').map((f) => f.severity)).toContain('high');
  });
});
