// Detection Rule License credits: every shipped rule adapted from a SigmaHQ or signature-base rule names the upstream
// rule and its author, the author matches the upstream rule file, and every output format carries it.
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { parse as parseYaml } from 'yaml';
import { catalogIds, catalogRules } from '../src/report/rules-catalog.js';
import { CREDITED_RULES, UPSTREAM_RULES, ruleCredits } from '../src/rules/references.js';
import { scan } from '../src/engine/scan.js';
import { renderNdjson } from '../src/report/ndjson.js';
import { findingsCsv } from '../src/report/csv.js';
import { renderHtml } from '../src/report/html.js';
import { parseCsv } from '../src/parsers/csv.js';

const VENDORED = join(import.meta.dirname, 'fixtures', 'sigma', 'sigmahq');
const UPSTREAM = join(import.meta.dirname, '..', '..', 'shared', 'reference', 'upstream', 'sigmahq-exchange-rules');
// References that cite a DRL project without adapting one of its rules (a sample log line in a pull request).
const NOT_A_RULE = /signature-base PR #125/;

describe('DRL credits of adapted rules', () => {
  const rules = catalogRules();

  it('every rule citing a SigmaHQ or signature-base rule credits it, and every credited id is a rule or grade', () => {
    const citing = rules.filter((r) => r.references.some((ref) => /SigmaHQ|signature-base/i.test(ref) && !NOT_A_RULE.test(ref)));
    expect(citing.length).toBeGreaterThan(40);
    for (const r of citing) expect(ruleCredits(r.id), `${r.id} cites a DRL rule but carries no credit`).not.toEqual([]);
    const known = catalogIds();
    for (const id of CREDITED_RULES) expect(known.has(id), `${id} is credited but no rule emits it`).toBe(true);
    expect(ruleCredits('PL-01')).toEqual([]);
  });

  it('Sigma credits name the author of the upstream rule file (vendored copies)', () => {
    const byId = new Map(readdirSync(VENDORED).filter((f) => f.endsWith('.yml')).map((f) => {
      const doc = parseYaml(readFileSync(join(VENDORED, f), 'utf8')) as { id: string; author: string };
      return [doc.id, { author: doc.author, file: f }];
    }));
    let checked = 0;
    for (const c of Object.values(UPSTREAM_RULES).filter((c) => c.project === 'SigmaHQ')) {
      const up = byId.get(c.rule);
      if (!up) continue;
      expect(c.author, c.rule).toBe(up.author);
      expect(c.url.endsWith(`/${up.file}`), c.url).toBe(true);
      checked++;
    }
    expect(checked).toBeGreaterThanOrEqual(12);
  });

  it('Sigma credits match ../shared upstream rules and their paths are rules-emerging-threats where SigmaHQ moved them', (ctx) => {
    ctx.skip(!existsSync(UPSTREAM), `${UPSTREAM} absent`);
    const landscape = readFileSync(join(UPSTREAM, '..', '..', 'current-landscape.md'), 'utf8');
    for (const c of Object.values(UPSTREAM_RULES).filter((c) => c.project === 'SigmaHQ')) {
      const file = readdirSync(UPSTREAM).find((f) => f === c.url.split('/').at(-1));
      if (!file) continue; // the tunnelling-tool rules are not in the Exchange extract
      const doc = parseYaml(readFileSync(join(UPSTREAM, file), 'utf8')) as { id: string; author: string };
      expect([c.rule, c.author]).toEqual([doc.id, doc.author]);
      const path = c.url.replace('https://github.com/SigmaHQ/sigma/blob/master/', '');
      expect(landscape.includes(`\`${path}\``), `${path} not in the SigmaHQ table of current-landscape.md §4.1`).toBe(true);
    }
  });

  it('findings carry the credit in JSON, NDJSON, CSV and HTML', async () => {
    const report = await scan({ paths: [join('examples', 'evidence', 'mail01-compromised')], jobs: 1, command: [] });
    const findings = report.hosts[0].findings;
    const credited = findings.filter((f) => ruleCredits(f.rule).length > 0);
    expect(credited.length).toBeGreaterThan(0);
    for (const f of findings) expect(f.credits ?? []).toEqual(ruleCredits(f.rule));
    const f = credited[0];
    const author = f.credits![0].author;

    const docs = renderNdjson(report).trim().split('\n').map((l) => JSON.parse(l) as { event: { id: string }; rule: { author?: string[]; license?: string } });
    const doc = docs.find((d) => d.event.id.endsWith(`/${f.id}`))!;
    expect(doc.rule.author).toContain(author);
    expect(doc.rule.license).toBe('DRL-1.1');
    expect(docs.find((d) => d.event.id.endsWith(`/${findings.find((x) => !x.credits)!.id}`))!.rule.author).toBeUndefined();

    const [header, ...rows] = parseCsv(findingsCsv(report));
    const col = header.indexOf('rule_credit');
    expect(col).toBe(header.length - 1);
    const row = rows.find((r) => r[header.indexOf('id')] === f.id)!;
    expect(row[col]).toContain(author);
    expect(row[col]).toContain('https://github.com/');

    const html = renderHtml(report);
    expect(html).toContain(`rule adapted from ${author}`);
  });
});
