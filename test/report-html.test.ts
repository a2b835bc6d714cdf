import { createHash } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { esc, renderHtml, scriptJson } from '../src/report/html.js';
import { compromisedFindings, finding, FULL_COVERAGE, host, report, scannedFindings } from './support/report-fixtures.js';

describe('renderHtml (static checks; the browser test renders it)', () => {
  const rep = report([host('mail01', compromisedFindings(), FULL_COVERAGE, 'compromised'), host('mail02', scannedFindings(), FULL_COVERAGE, 'attempted')]);
  const html = renderHtml(rep);

  it('allows exactly its own script, by hash, and nothing from anywhere', () => {
    const csp = /<meta http-equiv="Content-Security-Policy" content="([^"]+)">/.exec(html)?.[1].replace(/&#39;/g, "'");
    const scripts = [...html.matchAll(/<script>([\s\S]*?)<\/script>/g)].map((m) => m[1]);
    expect(scripts).toHaveLength(1);
    const hash = createHash('sha256').update(scripts[0], 'utf8').digest('base64');
    expect(csp).toBe(`default-src 'none'; style-src 'unsafe-inline'; script-src 'sha256-${hash}'; base-uri 'none'; form-action 'none'`);
    expect(html).not.toMatch(/https?:\/\/|\bsrc=|<link|@import|url\(/i);
  });

  it('is deterministic', () => {
    expect(renderHtml(rep)).toBe(html);
  });

  it('escapes evidence in markup and in the JSON island', () => {
    const evil = '</script><script>alert(1)</script><!--\u2028"\'&';
    const out = renderHtml(report([host(evil, [finding({ id: 'E', rule: 'R', kind: 'attempt', summary: evil, evidence: { url: evil } })], [], 'attempted')]));
    expect(out).not.toContain('<script>alert(1)');
    expect(out.match(/<\/script>/g)).toHaveLength(2);
    expect(out).not.toContain('<!--');
    expect(out).not.toContain('\u2028');
    expect(out).toContain(esc(evil));
    const island = /<script type="application\/json" id="exhunt-data">([\s\S]*?)<\/script>/.exec(out)?.[1] ?? '';
    expect((JSON.parse(island) as { hosts: Array<{ findings: Array<{ summary: string }> }> }).hosts[0].findings[0].summary).toBe(evil);
  });

  it('esc and scriptJson', () => {
    expect(esc(`<a href="x" onclick='y'>&`)).toBe('&#60;a href=&#34;x&#34; onclick=&#39;y&#39;&#62;&#38;');
    const v = { s: '</script>\u2028\u2029<!--&' };
    expect(scriptJson(v)).toBe('{"s":"\\u003c/script\\u003e\\u2028\\u2029\\u003c!--\\u0026"}');
    expect(JSON.parse(scriptJson(v))).toEqual(v);
  });

  it('puts the verdict banner before next steps, timeline, incidents, findings, coverage and skipped inputs', () => {
    const section = html.slice(html.indexOf('id="host-0"'), html.indexOf('id="host-1"'));
    const order = ['class="banner', 'What to do next', '<h3>Timeline', '<h3>Incidents', '<h3>Findings', '<h3>Coverage', '<h3>Skipped inputs'].map((m) => section.indexOf(m));
    expect(order.every((i) => i >= 0)).toBe(true);
    expect([...order].sort((a, b) => a - b)).toEqual(order);
    expect(html.indexOf('id="fleet"')).toBeLessThan(html.indexOf('id="host-0"'));
  });
});
