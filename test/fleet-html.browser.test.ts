/// <reference lib="dom" />
// The fleet report page in Debian's headless Chromium at 5,000 hosts: load time measured (printed, not asserted as
// a speed target), one page of rows in the DOM, sort, filter and paging work, no request, hostile labels stay text.
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { chromium, type BrowserContext, type Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { HostResult, ScanReport, Verdict } from '../src/model.js';
import { FleetBuilder } from '../src/report/fleet-report.js';
import { renderFleetHtml } from '../src/report/fleet-output.js';

const CHROMIUM = '/usr/bin/chromium';
const SKIP = process.env.EXHUNT_SKIP_BROWSER === '1';
const HOSTS = 5000;
const HOSTILE = '<img src=x onerror=window.__pwned=1>';

function syntheticReport(): ScanReport {
  const verdicts: Verdict[] = ['clean', 'clean', 'clean', 'insufficient-evidence', 'attempted', 'suspicious', 'compromised'];
  const hosts: HostResult[] = Array.from({ length: HOSTS }, (_, i) => {
    const verdict = verdicts[i % verdicts.length];
    const hostile = i === 7;
    return {
      name: hostile ? HOSTILE : `MAIL${String(i).padStart(4, '0')}`,
      label: hostile ? `c7.zip (${HOSTILE})` : `customer${i % 97}-${i}.zip (MAIL${String(i).padStart(4, '0')})`,
      inputs: [`/cases/${i}.zip`],
      verdict,
      reasons: [],
      coverage: [{ source: 'IIS W3SVC1', format: 'iis', files: 30, records: 1000, first: '2020-11-25T00:00:00.000Z', last: '2021-03-31T00:00:00.000Z' }],
      findings:
        verdict === 'compromised'
          ? [{ id: 'F0001', rule: 'WS-01', title: 'shell', cves: [], severity: 'critical', kind: 'webshell', lane: 'Files', stage: 'persistence', time: '2021-03-03T06:49:42.000Z', client_ip: null, source: { path: 'x.aspx' }, summary: 's', evidence: { file: `C:\\inetpub\\wwwroot\\aspnet_client\\s${i % 3}.aspx`, sha256: 'ab'.repeat(32) } }]
          : [],
      facts: [{ kind: 'build', value: '15.1.2176.2', source: { path: 'x' }, time: null, origin: 'x' }],
      skipped: [],
      stats: { files_seen: 1, files_scanned: 1, files_ignored: 0, bytes_scanned: 1, seconds: 0 },
      stage: verdict === 'compromised' ? 'persistence' : 'none',
      incidents: [],
      timeline: [],
      shells: [],
      coverage_gaps: [],
    } satisfies HostResult;
  });
  return { schema: 'exhunt.scan/1', tool: { name: 'exhunt', version: 'test', started: '2026-12-01T00:00:00.000Z', finished: '2026-12-01T01:00:00.000Z', command: [], options: { since: '2020-12-01T00:00:00.000Z' } }, hosts };
}

describe.skipIf(SKIP)(`fleet report page at ${HOSTS} hosts in headless Chromium`, () => {
  let dir: string;
  let ctx: BrowserContext;
  let page: Page;
  let url: string;
  const errors: string[] = [];
  const requests: string[] = [];
  let loadMs = 0;

  beforeAll(async () => {
    if (!existsSync(CHROMIUM)) throw new Error(`${CHROMIUM} is missing: run scripts/setup-test-deps.sh, or set EXHUNT_SKIP_BROWSER=1`);
    const b = new FleetBuilder();
    b.add(syntheticReport(), 'synthetic.json');
    const html = renderFleetHtml(b.build());
    dir = mkdtempSync(join(tmpdir(), 'exhunt-fleet-html-'));
    const file = join(dir, 'fleet.html');
    writeFileSync(file, html, 'utf8');
    url = pathToFileURL(file).href;
    ctx = await chromium.launchPersistentContext(join(dir, 'profile'), {
      executablePath: CHROMIUM,
      headless: true,
      args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'],
      viewport: { width: 1280, height: 900 },
    });
    page = ctx.pages()[0] ?? (await ctx.newPage());
    page.on('console', (m) => m.type() === 'error' && errors.push(m.text()));
    page.on('pageerror', (e) => errors.push(e.message));
    page.on('request', (r) => requests.push(r.url()));
    const t0 = performance.now();
    await page.goto(url);
    await page.waitForSelector(`body[data-rendered="${HOSTS}"]`, { timeout: 30_000 });
    loadMs = performance.now() - t0;
    console.log(`fleet HTML: ${HOSTS} hosts, ${(html.length / 1e6).toFixed(2)} MB, loaded and first page drawn in ${loadMs.toFixed(0)} ms`);
  });

  afterAll(async () => {
    await ctx?.close();
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  it('draws one page of rows, worst verdict first, with the campaign table', async () => {
    expect(loadMs).toBeGreaterThan(0);
    expect(await page.$$eval('#hosts tbody tr', (rows) => rows.length)).toBe(100);
    expect(await page.textContent('#page-info')).toBe(`${HOSTS} of ${HOSTS} hosts · page 1 of 50`);
    expect(await page.$eval('#hosts tbody tr td:nth-child(2)', (td) => td.textContent)).toBe('compromised');
    const camp = await page.$$eval('#campaigns tbody tr', (rows) => rows.map((r) => (r.children[0] as HTMLElement).textContent));
    expect(camp).toContain('web-shell SHA-256');
  });

  it('filters, sorts and pages', async () => {
    await page.selectOption('#verdict', 'suspicious');
    expect(await page.textContent('#page-info')).toBe('714 of 5000 hosts · page 1 of 8');
    await page.click('#next');
    expect(await page.textContent('#page-info')).toBe('714 of 5000 hosts · page 2 of 8');
    await page.selectOption('#verdict', '');
    await page.fill('#q', 'customer5-');
    const labels = await page.$$eval('#hosts tbody tr td:first-child', (tds) => tds.map((t) => t.textContent ?? ''));
    expect(labels.length).toBeGreaterThan(0);
    expect(labels.every((l) => l.startsWith('customer5-'))).toBe(true);
    await page.fill('#q', '');
    await page.click('th[data-key="l"]');
    const sorted = await page.$$eval('#hosts tbody tr td:first-child', (tds) => tds.map((t) => t.textContent ?? ''));
    expect(sorted).toEqual([...sorted].sort());
  });

  it('keeps hostile labels as text, logs no error and requests nothing else', async () => {
    await page.fill('#q', 'c7.zip');
    expect(await page.$eval('#hosts tbody tr td:first-child', (td) => td.textContent)).toBe(`c7.zip (${HOSTILE})`);
    expect(await page.evaluate(() => (window as unknown as { __pwned?: number }).__pwned)).toBeUndefined();
    expect(errors).toEqual([]);
    expect(requests).toEqual([url]);
  });
});
