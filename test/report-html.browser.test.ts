/// <reference lib="dom" />
// The HTML report in a real browser (Debian's chromium, installed by scripts/setup-test-deps.sh): it renders,
// shows the verdicts, logs no console errors, makes no request, and no hostile evidence string executes.
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { chromium, type BrowserContext, type Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { hostVerdict } from '../src/engine/verdict.js';
import type { HostResult } from '../src/model.js';
import { renderHtml } from '../src/report/html.js';
import { scanExamples } from './support/examples.js';
import { compromisedFindings, cov, finding, FULL_COVERAGE, host, report, scannedFindings, SINCE } from './support/report-fixtures.js';

const CHROMIUM = '/usr/bin/chromium';
const SKIP = process.env.EXHUNT_SKIP_BROWSER === '1';
export const SCREENSHOT = '/tmp/exhunt-report.png';

/** Strings an attacker can put in a URL, user agent, file name, cmdlet or host name. */
const HOSTILE = {
  script: '<script>window.__pwned=1</script>',
  img: '<img src=x onerror=window.__pwned=1>',
  svg: '"><svg onload=window.__pwned=1>',
  js: 'javascript:window.__pwned=1',
  ls: 'line\u2028sep\u2029para</script><script>window.__pwned=1</script>',
};

function withVerdict(h: HostResult): HostResult {
  return { ...h, ...hostVerdict(h.findings, h.coverage, SINCE) };
}

function hostileHost(): HostResult {
  const hostile = [
    finding({ id: 'X1', rule: 'PL-22', kind: 'exploitation', severity: 'critical', time: '2021-03-03T08:12:05.000Z', client_ip: '130.255.189.21', summary: `Set-OabVirtualDirectory ExternalUrl ${HOSTILE.script}`, evidence: { cmdlet: 'Set-OabVirtualDirectory', url: `http://f/${HOSTILE.script}`, user_agent: HOSTILE.img, anchor_mailbox: HOSTILE.svg } }),
    finding({ id: 'X2', rule: 'WS-40', kind: 'attempt', severity: 'medium', time: '2021-03-04T00:00:00.000Z', client_ip: HOSTILE.svg, title: HOSTILE.img, summary: HOSTILE.ls, source: { path: `inetpub/logs/LogFiles/W3SVC1/${HOSTILE.svg}.log`, line: 1 }, evidence: { url: HOSTILE.js, file: HOSTILE.ls } }),
  ];
  const h = host('mail01-compromised', [...compromisedFindings(), ...hostile], FULL_COVERAGE);
  h.skipped = [{ path: `Logging/${HOSTILE.img}.LOG`, reason: HOSTILE.script }];
  h.coverage = [...h.coverage, cov(HOSTILE.svg, 'iis', '2021-01-01T00:00:00.000Z', '2021-03-10T00:00:00.000Z')];
  return withVerdict(h);
}

const HOSTS = [
  hostileHost(),
  withVerdict(host('mail02-scanned', scannedFindings(), FULL_COVERAGE)),
  withVerdict(host('mail03-clean', [], FULL_COVERAGE)),
  withVerdict(host('mail04-nologs', [], [])),
  withVerdict(host(`evil${HOSTILE.script}`, [], [])),
];

interface Opened {
  dir: string;
  ctx: BrowserContext;
  page: Page;
  url: string;
  consoleErrors: string[];
  requests: string[];
}

/** Writes the HTML to a fresh folder and opens it from file:// in a fresh profile, recording errors and requests. */
async function openReport(html: string): Promise<Opened> {
  if (!existsSync(CHROMIUM)) {
    throw new Error(`${CHROMIUM} is missing: run scripts/setup-test-deps.sh (installs Debian's chromium), or set EXHUNT_SKIP_BROWSER=1 to skip the browser test`);
  }
  const dir = mkdtempSync(join(tmpdir(), 'exhunt-html-'));
  const file = join(dir, 'report.html');
  writeFileSync(file, html, 'utf8');
  const url = pathToFileURL(file).href;
  const ctx = await chromium.launchPersistentContext(join(dir, 'profile'), {
    executablePath: CHROMIUM,
    headless: true,
    args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'],
    viewport: { width: 1280, height: 900 },
  });
  const page = ctx.pages()[0] ?? (await ctx.newPage());
  const opened: Opened = { dir, ctx, page, url, consoleErrors: [], requests: [] };
  page.on('console', (m) => {
    if (m.type() === 'error') opened.consoleErrors.push(m.text());
  });
  page.on('pageerror', (e) => opened.consoleErrors.push(`pageerror: ${e.message}`));
  page.on('request', (r) => opened.requests.push(r.url()));
  await page.goto(url);
  await page.waitForSelector('html[data-ready="1"]', { timeout: 20_000 });
  return opened;
}

async function close(o: Opened | undefined): Promise<void> {
  await o?.ctx.close();
  if (o) rmSync(o.dir, { recursive: true, force: true });
}

describe.skipIf(SKIP)('HTML report in headless Chromium', () => {
  let o: Opened;
  let page: Page;

  beforeAll(async () => {
    const html = renderHtml(report(HOSTS));
    writeFileSync(SCREENSHOT.replace(/\.png$/, '.html'), html, 'utf8');
    o = await openReport(html);
    page = o.page;
  });

  afterAll(async () => {
    await close(o);
  });

  it('renders the verdicts, worst first in the fleet table, one banner per host', async () => {
    const banners = await page.$$eval('.banner .verdict', (els) => els.map((e) => e.getAttribute('data-verdict')));
    expect(banners).toEqual(['compromised', 'attempted', 'clean', 'insufficient-evidence', 'insufficient-evidence']);
    const labels = await page.$$eval('.banner .verdict', (els) => els.map((e) => (e as HTMLElement).innerText));
    expect(labels.slice(0, 4)).toEqual(['COMPROMISED', 'ATTACKED, NO SIGN OF SUCCESS', 'CLEAN', 'INSUFFICIENT EVIDENCE — NOT CLEAN']);
    const fleet = await page.$$eval('#fleet tbody tr td:nth-child(2)', (els) => els.map((e) => e.textContent));
    expect(fleet).toEqual(['compromised', 'attempted', 'insufficient-evidence', 'insufficient-evidence', 'clean']);
    expect(await page.title()).toBe('exhunt report — 5 hosts: 1 compromised, 1 attempted, 1 clean, 2 insufficient-evidence');
  });

  it('has no console errors and makes no request but the file itself', () => {
    expect(o.consoleErrors).toEqual([]);
    expect(o.requests).toEqual([o.url]);
  });

  it('executes no evidence string and shows each as text', async () => {
    expect(await page.evaluate(() => (window as unknown as { __pwned?: unknown }).__pwned)).toBeUndefined();
    expect(await page.$$eval('script', (els) => els.length)).toBe(2);
    expect(await page.$$eval('img, iframe, object, embed', (els) => els.length)).toBe(0);
    expect(await page.$$eval('svg', (els) => els.map((e) => e.getAttribute('class')))).toEqual(['timeline', 'timeline', 'timeline']);
    expect(await page.$$eval('a', (els) => els.map((e) => e.getAttribute('href')).filter((h) => !/^#host-\d+$/.test(h ?? '')))).toEqual([]);
    expect(await page.$$eval('[onerror], [onload], [onclick]', (els) => els.length)).toBe(0);
    const text = await page.evaluate(() => document.body.innerText);
    for (const s of [HOSTILE.script, HOSTILE.img, HOSTILE.svg, HOSTILE.js]) expect(text).toContain(s);
    expect(await page.$$eval('h2.hostname', (els) => els.map((e) => e.textContent))).toContain(`evil${HOSTILE.script}`);
    // U+2028 survives the JSON island and the textContent round trip.
    const summaries = await page.$$eval('#findings-0 td.col-summary', (els) => els.map((e) => e.textContent));
    expect(summaries).toContain(HOSTILE.ls);
  });

  it('sorts and filters the findings table with clicks and typing', async () => {
    const table = '#findings-0';
    const col = (name: string) => page.$$eval(`${table} td.col-${name}`, (els) => els.map((e) => e.textContent ?? ''));
    const times = await col('time');
    expect(times[0]).toBe('2021-03-02 01:00:00Z');
    expect([...times].sort()).toEqual(times);
    await page.click(`${table} button[data-key="severity"]`);
    const sev = await col('severity');
    expect(sev[0]).toBe('critical');
    expect(sev.at(-1)).toBe('low');
    await page.click(`${table} button[data-key="severity"]`);
    expect((await col('severity'))[0]).toBe('low');
    await page.fill(`${table} input[type=search]`, 'shell.aspx');
    expect((await col('rule')).sort()).toEqual(['PL-30', 'WS-20', 'WS-40']);
    await page.fill(`${table} input[type=search]`, '');
    await page.selectOption(`${table} select[aria-label="Kind"]`, 'scan');
    expect(await col('rule')).toEqual(['PL-05', 'PX-R1']);
    expect(await page.textContent(`${table} .count`)).toBe(' 2 of 12 findings');
    await page.selectOption(`${table} select[aria-label="Kind"]`, '');
    await page.click(`${table} button[data-key="time"]`);
  });

  it('takes screenshots for a person to look at (full page, and the first screen a responder sees)', async () => {
    await page.evaluate(() => window.scrollTo(0, 0));
    await page.screenshot({ path: SCREENSHOT, fullPage: true });
    await page.screenshot({ path: SCREENSHOT.replace(/\.png$/, '-first-screen.png') });
    expect(existsSync(SCREENSHOT)).toBe(true);
  });
});

describe.skipIf(SKIP)('HTML report of the example scan in headless Chromium', () => {
  let o: Opened;

  beforeAll(async () => {
    o = await openReport(renderHtml(await scanExamples()));
  });

  afterAll(async () => {
    await close(o);
  });

  it('shows the four verdicts of the real scan, with no console error and no request', async () => {
    const banners = await o.page.$$eval('.banner .verdict', (els) => els.map((e) => e.getAttribute('data-verdict')));
    expect(banners).toEqual(['compromised', 'clean', 'attempted', 'insufficient-evidence']);
    expect(o.consoleErrors).toEqual([]);
    expect(o.requests).toEqual([o.url]);
    // The real ECP evidence carries the attacker's <script> page: it must be text, not markup.
    expect(await o.page.evaluate(() => document.body.innerText)).toContain('<script language="JScript" runat="server">');
    expect(await o.page.$$eval('script', (els) => els.length)).toBe(2);
    await o.page.screenshot({ path: SCREENSHOT.replace(/\.png$/, '-examples.png'), fullPage: true });
  });
});

/** Elements wider than their box: a table or text cut off (scroll containers and the timeline scroller excepted). */
function overflowing(page: Page): Promise<string[]> {
  return page.evaluate(() => {
    const out: string[] = [];
    const root = document.documentElement;
    if (root.scrollWidth > window.innerWidth + 1) out.push(`page ${root.scrollWidth}px > ${window.innerWidth}px`);
    for (const el of Array.from(document.querySelectorAll('main > section, .incident, ol.steps, ul.reasons, .tablewrap'))) {
      const e = el as HTMLElement;
      if (e.scrollWidth > e.clientWidth + 1) out.push(`${e.tagName.toLowerCase()}.${e.className} ${e.scrollWidth}px > ${e.clientWidth}px`);
    }
    return out;
  });
}

describe.skipIf(SKIP)('HTML report of the example scan at phone and laptop widths, and in print', () => {
  let o: Opened;

  beforeAll(async () => {
    o = await openReport(renderHtml(await scanExamples()));
  });

  afterAll(async () => {
    await close(o);
  });

  it.each([390, 1366])('at %ipx nothing is cut off, and a screenshot is taken for a person to look at', async (width) => {
    await o.page.setViewportSize({ width, height: 900 });
    expect(await overflowing(o.page)).toEqual([]);
    // Wide content scrolls inside its own box instead of widening the page.
    const scrollers = await o.page.$$eval('.scroll', (els) => els.map((e) => getComputedStyle(e).overflowX));
    expect(new Set(scrollers)).toEqual(new Set(['auto']));
    await o.page.evaluate(() => window.scrollTo(0, 0));
    await o.page.screenshot({ path: SCREENSHOT.replace(/\.png$/, `-examples-${width}.png`) });
    await o.page.screenshot({ path: SCREENSHOT.replace(/\.png$/, `-examples-${width}-full.png`), fullPage: true });
    expect(o.consoleErrors).toEqual([]);
  });

  it('shows the exposure windows as a table that fits a phone without sideways scrolling', async () => {
    await o.page.setViewportSize({ width: 390, height: 900 });
    const rows = await o.page.$$eval('#host-0 table.windows tr[data-family]', (trs) => trs.map((t) => t.getAttribute('data-family')));
    expect(rows).toEqual(['proxylogon', 'proxyshell', 'proxynotshell', 'owassrf', 'cve-2021-42321', 'cve-2024-21410', 'cve-2026-42897']);
    const wide = await o.page.$$eval('table.windows', (ts) => ts.filter((t) => (t.parentElement as HTMLElement).scrollWidth > (t.parentElement as HTMLElement).clientWidth + 1).length);
    expect(wide).toBe(0);
    const table = await o.page.$('#host-0 table.windows');
    await table!.screenshot({ path: SCREENSHOT.replace(/\.png$/, '-windows-390.png') });
  });

  it('labels the timeline in a readable size and draws the worst dots last (on top)', async () => {
    await o.page.setViewportSize({ width: 390, height: 900 });
    const fontPx = await o.page.$eval('#host-0 svg.timeline text', (t) => {
      const svg = (t as SVGTextElement).ownerSVGElement as SVGSVGElement;
      return parseFloat(getComputedStyle(t).fontSize) * (svg.getBoundingClientRect().width / svg.viewBox.baseVal.width);
    });
    expect(fontPx).toBeGreaterThanOrEqual(8);
    const order = await o.page.$$eval('#host-0 svg.timeline g.ev', (gs) => gs.map((g) => g.getAttribute('data-severity')));
    const rank: Record<string, number> = { info: 0, low: 1, medium: 2, high: 3, critical: 4 };
    const ranks = order.map((s) => rank[s ?? 'info']);
    expect(ranks.length).toBeGreaterThan(5);
    expect([...ranks].sort((a, b) => a - b)).toEqual(ranks);
    expect(order.at(-1)).toBe('critical');
  });

  it('shows web shells by server path, with the evidence copy in the details', async () => {
    const items = await o.page.$$eval('#host-0 li[data-step="remove-shells"] details', (ds) => ds.map((d) => ({ path: d.querySelector('summary')?.textContent, copy: d.querySelector('code')?.textContent, title: d.getAttribute('title') })));
    expect(items).toContainEqual({ path: 'C:\\inetpub\\wwwroot\\aspnet_client\\system_web\\xHA6boc8.aspx', copy: 'C/inetpub/wwwroot/aspnet_client/system_web/xHA6boc8.aspx', title: 'In the evidence: C/inetpub/wwwroot/aspnet_client/system_web/xHA6boc8.aspx' });
    const cmds = await o.page.$$eval('#host-0 pre.cmd', (ps) => ps.map((p) => p.textContent));
    expect(cmds).toEqual(['exhunt collect C:\\ --case E:\\exhunt-case.zip --host MAIL01', 'exhunt mitigate --proxylogon --proxynotshell --owa-csp > mitigate.ps1']);
  });

  it('heads the report with generation time, exhunt and rule-set versions and the evidence span', async () => {
    const meta = await o.page.$eval('header.top .meta', (m) => (m as HTMLElement).innerText);
    expect(meta).toMatch(/Generated \d{4}-\d\d-\d\d \d\d:\d\d:\d\dZ/);
    expect(meta).toMatch(/exhunt \d+\.\d+\.\d+/);
    expect(meta).toMatch(/Rule set \d+ rules, [0-9a-f]{12}/);
    expect(meta).toContain('Evidence spans 2020-11-25');
  });

  it('prints on A4 without cut tables', async () => {
    await o.page.emulateMedia({ media: 'print' });
    // A4 (210 mm) less the 12 mm margins at 96 dpi.
    await o.page.setViewportSize({ width: Math.floor(((210 - 24) / 25.4) * 96), height: 1100 });
    const cut = await o.page.evaluate(() =>
      Array.from(document.querySelectorAll('table'))
        .filter((t) => t.getBoundingClientRect().right > document.documentElement.clientWidth + 1)
        .map((t) => `${t.className || 'table'} ends at ${Math.round(t.getBoundingClientRect().right)}px`),
    );
    expect(cut).toEqual([]);
    expect(await overflowing(o.page)).toEqual([]);
    const pdf = await o.page.pdf({ format: 'A4', path: SCREENSHOT.replace(/\.png$/, '-examples.pdf') });
    expect(pdf.subarray(0, 5).toString()).toBe('%PDF-');
    await o.page.emulateMedia({ media: 'screen' });
  });
});
