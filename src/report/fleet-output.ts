// Renders the fleet report (fleet-report.ts): terminal table or --summary lines, CSV, NDJSON, and one self-contained
// HTML page whose host table is paged, sorted and filtered in the browser (usable at thousands of hosts: only one
// page of rows is ever in the DOM). Evidence strings reach the page only through textContent. Each output is made
// as pieces (a host's row, line or record at a time) and written as it is made (`writeFleetOutputs`); the render*
// functions join the same pieces, for the library and tests.
import { mkdir } from 'node:fs/promises';
import { join } from 'node:path';
import type { Verdict } from '../model.js';
import { csvRow } from './csv-cell.js';
import { esc, htmlHead, scriptJson } from './html.js';
import { PIVOT_TEXT, type Campaign, type FleetHost, type FleetReport } from './fleet-report.js';
import { shortDay, shortTime, VERDICT_ORDER } from './summary.js';
import { safeText } from './terminal.js';
import { indent, STDOUT, writePieces } from './stream.js';

const day = (t: string | null) => shortDay(t);
const cover = (h: FleetHost) => (h.coverage.first === null ? 'no logs' : `${day(h.coverage.first)} → ${day(h.coverage.last)}`);
const worstFirst = (a: FleetHost, b: FleetHost) => VERDICT_ORDER[a.verdict] - VERDICT_ORDER[b.verdict] || (a.label < b.label ? -1 : a.label > b.label ? 1 : 0);

export function totalsLine(r: FleetReport): string {
  const parts = (Object.entries(r.totals) as Array<[Verdict, number]>).filter(([, n]) => n > 0).map(([v, n]) => `${n} ${v}`);
  return `${r.hosts.length} host${r.hosts.length === 1 ? '' : 's'}: ${parts.join(', ') || 'none'}; ${r.campaigns.length} cross-host indicator${r.campaigns.length === 1 ? '' : 's'}`;
}

/** Lines of a text table; `rows` is called twice (column widths, then the lines), so no row list is kept. */
function* table(header: string[], rows: () => Iterable<string[]>): Generator<string> {
  const widths = header.map((h) => h.length);
  for (const r of rows()) r.forEach((c, i) => (widths[i] = Math.max(widths[i], c.length)));
  const line = (cells: string[]) => cells.map((c, i) => c.padEnd(widths[i])).join('  ').trimEnd();
  yield line(header);
  for (const r of rows()) yield line(r);
}

function campaignLines(r: FleetReport, max: number): string[] {
  if (!r.campaigns.length) return [];
  const rows = r.campaigns.slice(0, max).map((c) => [PIVOT_TEXT[c.pivot], safeText(c.value).slice(0, 60), String(c.hosts.length), shortTime(c.first), shortTime(c.last), safeText(c.hosts.slice(0, 4).join(', ')) + (c.hosts.length > 4 ? ', …' : '')]);
  const more = r.campaigns.length > max ? [`… ${r.campaigns.length - max} more in --html / --json / --csv`] : [];
  return ['', 'Seen on several hosts:', ...table(['INDICATOR', 'VALUE', 'HOSTS', 'FIRST', 'LAST', 'WHERE'], () => rows), ...more];
}

/**
 * Terminal view. `summary`: one line per host whose verdict is not clean (worst first), then the totals — for
 * large fleets. Otherwise every host in a table, the indicators seen on several hosts, and the totals.
 */
export function* fleetTerminal(r: FleetReport, opts: { summary: boolean }): Generator<string> {
  const notes = r.notes.map((n) => `note: ${safeText(n)}`);
  const sorted = [...r.hosts].sort(worstFirst);
  if (opts.summary) {
    for (const h of sorted) {
      if (h.verdict !== 'clean') yield `${h.verdict.padEnd(21)} ${safeText(h.label)}  ${h.stage}${h.first_attack ? `  ${shortTime(h.first_attack)} → ${shortTime(h.last_attack)}` : ''}\n`;
    }
    for (const n of notes) yield `${n}\n`;
    yield `${totalsLine(r)}\n`;
    return;
  }
  const rows = function* () {
    for (const h of sorted) yield [safeText(h.label), h.verdict, h.stage, shortTime(h.first_attack), shortTime(h.last_attack), safeText(h.build ?? '—'), cover(h)];
  };
  for (const l of table(['HOST', 'VERDICT', 'STAGE', 'FIRST ATTACK', 'LAST ATTACK', 'BUILD', 'LOGS COVER'], rows)) yield `${l}\n`;
  for (const l of [...campaignLines(r, 20), ...(notes.length ? ['', ...notes] : []), '', totalsLine(r)]) yield `${l}\n`;
}

export function renderFleetTerminal(r: FleetReport, opts: { summary: boolean }): string {
  return [...fleetTerminal(r, opts)].join('');
}

function* fleetHostsCsv(r: FleetReport): Generator<string> {
  yield `${csvRow(['label', 'server', 'verdict', 'stage', 'first_attack', 'last_attack', 'build', 'exposure', 'logs_first', 'logs_last', 'critical', 'high', 'medium', 'low', 'scanned_at', 'result_file'])}\r\n`;
  for (const h of r.hosts)
    yield `${csvRow([h.label, h.server, h.verdict, h.stage, h.first_attack, h.last_attack, h.build, h.exposure?.summary ?? '', h.coverage.first, h.coverage.last, h.counts.critical, h.counts.high, h.counts.medium, h.counts.low, h.scanned_at, h.result_file])}\r\n`;
}

function* fleetCampaignsCsv(r: FleetReport): Generator<string> {
  yield `${csvRow(['indicator', 'value', 'host_count', 'first', 'last', 'hosts'])}\r\n`;
  for (const c of r.campaigns) yield `${csvRow([c.pivot, c.value, c.hosts.length, c.first, c.last, c.hosts.join('; ')])}\r\n`;
}

export async function writeFleetCsv(r: FleetReport, dir: string): Promise<void> {
  await mkdir(dir, { recursive: true });
  await writePieces(join(dir, 'fleet-hosts.csv'), fleetHostsCsv(r));
  await writePieces(join(dir, 'fleet-campaigns.csv'), fleetCampaignsCsv(r));
}

/** One JSON object per line: a `host` record per host, then a `campaign` record per cross-host indicator. */
function* fleetNdjson(r: FleetReport): Generator<string> {
  const strip = ({ sightings: _s, ...h }: FleetHost) => h;
  for (const h of r.hosts) yield `${JSON.stringify({ type: 'host', ...strip(h) })}\n`;
  for (const c of r.campaigns) yield `${JSON.stringify({ type: 'campaign', ...(c as Campaign) })}\n`;
}

export function renderFleetNdjson(r: FleetReport): string {
  return [...fleetNdjson(r)].join('');
}

/** JSON.stringify(r, null, 2), its top-level arrays (hosts, campaigns, results, notes) an element at a time. */
function* fleetJson(r: FleetReport): Generator<string> {
  yield '{';
  let first = true;
  for (const [key, value] of Object.entries(r)) {
    yield `${first ? '' : ','}\n  ${JSON.stringify(key)}: `;
    first = false;
    if (Array.isArray(value) && value.length > 0) {
      yield '[';
      for (let i = 0; i < value.length; i++) yield `${i ? ',' : ''}\n    ${indent(JSON.stringify(value[i], null, 2), '    ')}`;
      yield '\n  ]';
    } else yield indent(JSON.stringify(value, null, 2), '  ');
  }
  yield '\n}\n';
}

/** The page's data as JSON pieces (scriptJson of each): the columns the table shows (short keys keep 5,000 hosts small). */
function* pageData(r: FleetReport): Generator<string> {
  yield '{"hosts":[';
  for (let i = 0; i < r.hosts.length; i++) {
    const h = r.hosts[i];
    const row = { l: h.label, s: h.server, v: h.verdict, g: h.stage, f: h.first_attack, t: h.last_attack, b: h.build, e: h.exposure?.summary ?? null, c: h.coverage.first === null ? null : `${day(h.coverage.first)} → ${day(h.coverage.last)}`, n: h.counts.critical + h.counts.high };
    yield `${i ? ',' : ''}${scriptJson(row)}`;
  }
  yield '],"campaigns":[';
  for (let i = 0; i < r.campaigns.length; i++) {
    const c = r.campaigns[i];
    yield `${i ? ',' : ''}${scriptJson({ p: PIVOT_TEXT[c.pivot], v: c.value, n: c.hosts.length, h: c.hosts, f: c.first, t: c.last })}`;
  }
  yield ']}';
}

const FLEET_JS = String.raw`
(function () {
  'use strict';
  var data = JSON.parse(document.getElementById('fleet-data').textContent);
  var PAGE = 100;
  var ORDER = { compromised: 0, attempted: 1, suspicious: 2, 'insufficient-evidence': 3, clean: 4 };
  var COLS = [['l', 'Host (input · server)'], ['v', 'Verdict'], ['g', 'Stage'], ['f', 'First attack'], ['t', 'Last attack'], ['b', 'Build'], ['e', 'Exposure'], ['c', 'Logs cover'], ['n', 'Crit+high']];
  var state = { key: 'v', dir: 1, page: 0, q: '', verdict: '' };
  function el(tag, text, cls) { var e = document.createElement(tag); if (text !== undefined && text !== null) e.textContent = String(text); if (cls) e.className = cls; return e; }
  function cmp(k, a, b) {
    if (k === 'v') return ORDER[a.v] - ORDER[b.v] || (a.l < b.l ? -1 : a.l > b.l ? 1 : 0);
    if (k === 'n') return a.n - b.n;
    var x = a[k] === null ? '' : String(a[k]), y = b[k] === null ? '' : String(b[k]);
    return x < y ? -1 : x > y ? 1 : 0;
  }
  var table = document.getElementById('hosts');
  var head = el('thead'), tr = el('tr');
  COLS.forEach(function (c) {
    var th = el('th', c[1]); th.tabIndex = 0; th.setAttribute('data-key', c[0]);
    th.addEventListener('click', function () { state.dir = state.key === c[0] ? -state.dir : 1; state.key = c[0]; state.page = 0; draw(); });
    tr.appendChild(th);
  });
  head.appendChild(tr); table.appendChild(head);
  var body = el('tbody'); table.appendChild(body);
  var info = document.getElementById('page-info');
  function rows() {
    var q = state.q.toLowerCase();
    var list = data.hosts.filter(function (h) {
      if (state.verdict && h.v !== state.verdict) return false;
      return !q || (h.l + ' ' + h.s + ' ' + (h.b || '') + ' ' + h.g).toLowerCase().indexOf(q) >= 0;
    });
    list.sort(function (a, b) { return state.dir * cmp(state.key, a, b); });
    return list;
  }
  function draw() {
    var list = rows();
    var pages = Math.max(1, Math.ceil(list.length / PAGE));
    if (state.page >= pages) state.page = pages - 1;
    var frag = document.createDocumentFragment();
    list.slice(state.page * PAGE, state.page * PAGE + PAGE).forEach(function (h) {
      var r = el('tr'); r.className = 'v-' + h.v;
      COLS.forEach(function (c) { r.appendChild(el('td', h[c[0]] === null ? '—' : h[c[0]])); });
      frag.appendChild(r);
    });
    body.textContent = ''; body.appendChild(frag);
    info.textContent = list.length + ' of ' + data.hosts.length + ' hosts · page ' + (state.page + 1) + ' of ' + pages;
    document.body.setAttribute('data-rendered', String(list.length));
  }
  document.getElementById('q').addEventListener('input', function (e) { state.q = e.target.value; state.page = 0; draw(); });
  document.getElementById('verdict').addEventListener('change', function (e) { state.verdict = e.target.value; state.page = 0; draw(); });
  document.getElementById('prev').addEventListener('click', function () { if (state.page > 0) { state.page--; draw(); } });
  document.getElementById('next').addEventListener('click', function () { state.page++; draw(); });
  var ct = document.getElementById('campaigns');
  if (ct) {
    var cb = el('tbody');
    data.campaigns.forEach(function (c) {
      var r = el('tr');
      [c.p, c.v, c.n, c.f || '—', c.t || '—', c.h.join(', ')].forEach(function (v) { r.appendChild(el('td', v)); });
      cb.appendChild(r);
    });
    ct.appendChild(cb);
  }
  draw();
})();
`;

const CSS = `body{font:14px/1.4 system-ui,sans-serif;margin:0;color:#111}header,main{padding:12px 20px}h1{font-size:20px;margin:0}
.meta{color:#555}.counts span{display:inline-block;margin:4px 8px 4px 0;padding:4px 10px;border-radius:4px;background:#eee}
table{border-collapse:collapse;width:100%;margin:8px 0}th,td{border-bottom:1px solid #ddd;padding:4px 6px;text-align:left;vertical-align:top}
th{cursor:pointer;background:#f4f4f4;position:sticky;top:0}td{word-break:break-word}.v-compromised td:nth-child(2){color:#b00;font-weight:bold}
.v-attempted td:nth-child(2){color:#a60}.v-suspicious td:nth-child(2){color:#80a}.controls{margin:8px 0}.controls *{margin-right:8px}`;

function* fleetHtml(r: FleetReport): Generator<string> {
  const counts = (Object.entries(r.totals) as Array<[Verdict, number]>).map(([v, n]) => `<span>${esc(v)}: <b>${n}</b></span>`).join('');
  const options = Object.keys(r.totals)
    .map((v) => `<option value="${esc(v)}">${esc(v)}</option>`)
    .join('');
  const notes = r.notes.length ? `<h2>Notes</h2><ul>${r.notes.map((n) => `<li>${esc(n)}</li>`).join('')}</ul>` : '';
  const camp = r.campaigns.length
    ? `<table id="campaigns"><thead><tr><th>Indicator</th><th>Value</th><th>Hosts</th><th>First seen</th><th>Last seen</th><th>Where</th></tr></thead></table>`
    : '<p>No indicator was seen on more than one host.</p>';
  yield `${htmlHead(`exhunt fleet report — ${totalsLine(r)}`, CSS, FLEET_JS)}
<body>
<header><h1>exhunt fleet report</h1><div class="meta">${esc(totalsLine(r))} · from ${r.results.length} result file${r.results.length === 1 ? '' : 's'} · exhunt ${esc(r.tool.version)} · generated ${esc(shortTime(r.tool.generated))} · all times UTC</div>
<div class="counts">${counts}</div></header>
<main>
<h2>Campaigns: the same indicator on several hosts</h2>
${camp}
<h2>Hosts</h2>
<div class="controls"><input id="q" type="search" placeholder="filter by host, server, build, stage" aria-label="filter hosts"><select id="verdict" aria-label="verdict"><option value="">all verdicts</option>${options}</select><button id="prev" type="button">‹ previous</button><button id="next" type="button">next ›</button><span id="page-info"></span></div>
<table id="hosts"></table>
${notes}
</main>
<script type="application/json" id="fleet-data">`;
  yield* pageData(r);
  yield `</script>
<script>${FLEET_JS}</script>
</body>
</html>
`;
}

export function renderFleetHtml(r: FleetReport): string {
  return [...fleetHtml(r)].join('');
}

/** Where `exhunt report` writes (file paths, `-` for stdout; csv: a folder). */
export interface FleetTargets {
  json?: string;
  html?: string;
  csv?: string;
  ndjson?: string;
  /** Terminal view on stdout (unless JSON goes there). */
  terminal?: { summary: boolean } | null;
}

/** Writes every output a piece at a time: no output is ever one string. */
export async function writeFleetOutputs(r: FleetReport, t: FleetTargets): Promise<void> {
  if (t.json) await writePieces(t.json, fleetJson(r));
  if (t.html) await writePieces(t.html, fleetHtml(r));
  if (t.csv) await writeFleetCsv(r, t.csv);
  if (t.ndjson) await writePieces(t.ndjson, fleetNdjson(r));
  if (t.terminal && t.json !== STDOUT) await writePieces(STDOUT, fleetTerminal(r, t.terminal));
}
