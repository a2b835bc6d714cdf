// The self-contained HTML report: verdict per host first, then what to do, timeline, incidents, findings, coverage.
// No network at all (strict CSP, inline CSS/SVG, one hashed script). Every evidence string is escaped here or set
// with textContent in the client script.
import { createHash } from 'node:crypto';
import { SEVERITY_RANK } from '../model.js';
import type { Coverage, EvidenceValue, Finding, HostResult, Incident, ScanReport, Stage, TimelineEntry, ToolInfo } from '../model.js';
import { STAGE_RANK } from '../semantics.js';
import { CLIENT_JS } from './html-client.js';
import { windowRows, type WindowState } from './exposure-view.js';
import { nextSteps, type NextStep } from './next-steps.js';
import { rulesetVersion } from './rules-catalog.js';
import { VERDICT_ORDER, VERDICT_TEXT, attackSpan, coverageSpan, hostDigest, hostTitle, severityCounts, shortDay, shortTime, verdictCounts, type HostDigest } from './summary.js';
import { creditLine } from './credit.js';

const MAX_EXCERPTS = 8;
const MAX_SKIPPED = 200;
const MIN = 60_000;
const HOUR = 60 * MIN;
const DAY = 24 * HOUR;

/** Text and attribute-value escaping (both contexts, always quoted attributes); line/paragraph separators as entities too. */
const BIDI = /[\u061c\u200e\u200f\u202a-\u202e\u2066-\u2069]/g;
/** Control characters but tab and line ends. */
const CONTROL = /[\u0000-\u0008\u000b\u000c\u000e-\u001f\u007f-\u009f]/g;

const byName = (c: string): string => `[U+${c.charCodeAt(0).toString(16).toUpperCase()}]`;

export function esc(s: string): string {
  // Direction controls would survive as character references and still reorder the text (U+202E makes
  // "xcod.aspx" read as a .docx), and raw ESC/BEL would reach a terminal that shows the file (`cat report.html`):
  // both are shown by name instead.
  return s.replace(/[&<>"'\u2028\u2029]/g, (c) => `&#${c.charCodeAt(0)};`).replace(BIDI, byName).replace(CONTROL, byName);
}

/**
 * JSON for a `<script type="application/json">` block: `<` `>` `&` cannot close the element or open a comment,
 * U+2028/2029 cannot break a parser that treats them as line ends.
 */
export function scriptJson(value: unknown): string {
  return JSON.stringify(value).replace(/[<>&\u2028\u2029\u061c\u200e\u200f\u202a-\u202e\u2066-\u2069]/g, (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`);
}

const STAGE_LABEL: Record<Stage, string> = {
  none: 'no attack stage',
  scanned: 'scanned',
  attempted: 'exploitation attempted',
  exploited: 'exploited',
  persistence: 'persistence (web shell)',
  'post-exploitation': 'post-exploitation',
};

const STAGE_COLOR: Record<Stage, string> = {
  none: '#64748b',
  scanned: '#94a3b8',
  attempted: '#d97706',
  exploited: '#dc2626',
  persistence: '#991b1b',
  'post-exploitation': '#4c0519',
};

const CSS = `
:root{--c:#b91c1c;--a:#b45309;--s:#7c3aed;--ok:#15803d;--ie:#334155;--line:#e2e8f0;--muted:#64748b}
*{box-sizing:border-box}
body{font:14px/1.45 system-ui,-apple-system,"Segoe UI",Roboto,Helvetica,Arial,sans-serif;color:#0f172a;margin:0;background:#f8fafc}
main{max-width:1200px;margin:0 auto;padding:16px 20px 60px}
h1{font-size:20px;margin:0}h2{font-size:22px;margin:0}h3{font-size:16px;margin:22px 0 8px;border-bottom:1px solid var(--line);padding-bottom:4px}
header.top{background:#0f172a;color:#e2e8f0;padding:12px 20px}header.top .meta{font-size:12px;color:#94a3b8;margin-top:2px}
.muted{color:var(--muted)}code,.mono{font-family:ui-monospace,SFMono-Regular,Menlo,Consolas,monospace;font-size:12px;overflow-wrap:anywhere}
section.host{background:#fff;border:1px solid var(--line);border-radius:8px;margin:18px 0;padding:0 18px 18px;overflow:hidden}
.banner{margin:0 -18px 12px;padding:14px 18px;color:#fff}
.banner .verdict{font-size:26px;font-weight:700;letter-spacing:.02em}
.banner .meaning{font-size:15px;opacity:.95}
.banner .facts{display:flex;flex-wrap:wrap;gap:6px 22px;margin-top:8px;font-size:13px}
.banner .facts b{font-weight:600}
.v-compromised{background:var(--c)}.v-attempted{background:var(--a)}.v-suspicious{background:var(--s)}.v-clean{background:var(--ok)}.v-insufficient-evidence{background:var(--ie)}
.chip{display:inline-block;border-radius:10px;padding:1px 8px;font-size:12px;font-weight:600;color:#fff;white-space:nowrap}
ul.reasons{margin:6px 0 0;padding-left:20px}
ol.steps{padding-left:22px;margin:6px 0}ol.steps li{margin:6px 0}ol.steps .title{font-weight:600}
ol.steps ul{margin:4px 0;padding-left:18px}
table{border-collapse:collapse;width:100%}th,td{text-align:left;vertical-align:top;padding:4px 6px;border-bottom:1px solid var(--line)}
th{font-size:12px;color:#334155;background:#f1f5f9}
.incident{border:1px solid var(--line);border-left:5px solid var(--muted);border-radius:6px;padding:8px 12px;margin:10px 0}
.incident .head{font-weight:600}.incident p{margin:6px 0}
.incident table td,.incident table th{font-size:12px}
.incident td:nth-child(-n+3),table.findings td.col-rule,table.findings td.col-severity,table.findings td.col-incident{white-space:nowrap}
.fleet td a{color:inherit;font-weight:600}
.filters{display:flex;flex-wrap:wrap;gap:6px;align-items:center;margin:6px 0}
.filters input{flex:1;min-width:220px;padding:5px 8px;border:1px solid #cbd5e1;border-radius:4px}
.filters select{padding:4px}.filters .count{color:var(--muted);font-size:12px}
.tablewrap{max-height:560px;overflow:auto;border:1px solid var(--line)}
table.findings td{font-size:12px}table.findings th{position:sticky;top:0}
table.findings td.col-evidence,table.findings td.col-summary{max-width:360px;overflow-wrap:anywhere}
table.findings td.col-evidence{font-family:ui-monospace,Menlo,Consolas,monospace;font-size:11px;max-height:6em}
table.findings td.col-source{font-family:ui-monospace,Menlo,Consolas,monospace;font-size:11px;overflow-wrap:anywhere;max-width:200px}
button.sort{all:unset;cursor:pointer;font-weight:600}button.sort:focus{outline:2px solid #2563eb}
th[aria-sort=ascending] button.sort::after{content:" ▲"}th[aria-sort=descending] button.sort::after{content:" ▼"}
tr.sev-critical td.col-severity{color:#b91c1c;font-weight:700}tr.sev-high td.col-severity{color:#c2410c;font-weight:600}
svg.timeline{width:100%;height:auto;background:#fff}
svg text{font:12px system-ui,sans-serif;fill:#334155}
.legend{font-size:12px;color:var(--muted);margin:4px 0}.legend span{margin-right:12px}
.legend i{display:inline-block;width:10px;height:10px;border-radius:5px;margin-right:4px;vertical-align:-1px}
header.top .meta span{display:inline-block}header.top .meta b{font-weight:600;color:#cbd5e1}
ul.reasons li,ol.steps li,.incident p{overflow-wrap:anywhere}
pre.cmd{margin:4px 0;padding:6px 8px;background:#0f172a;color:#e2e8f0;border-radius:4px;white-space:pre-wrap;overflow-wrap:anywhere}
pre.cmd code{font-size:12px}
ol.steps details summary{cursor:pointer}ol.steps details code{font-size:11px}
.scroll{overflow-x:auto;max-width:100%}
table.excerpts td:last-child{overflow-wrap:anywhere}
table.windows td{overflow-wrap:anywhere}table.windows td.col-span{white-space:nowrap}table.windows tr.w-gap td{background:#fef2f2}
table.windows .why{font-size:12px;color:var(--muted)}table.windows .gap{color:var(--c);font-weight:600}
@media (max-width:640px){
main{padding:8px 8px 40px}section.host{padding:0 10px 12px;margin:12px 0}.banner{margin:0 -10px 10px;padding:10px}
.banner .verdict{font-size:20px}h2{font-size:18px}header.top{padding:10px}
.filters input{min-width:0;width:100%}
svg.timeline{min-width:760px}
table.excerpts thead{display:none}table.excerpts,table.excerpts tbody,table.excerpts tr,table.excerpts td{display:block;width:auto}
table.excerpts tr{border-bottom:1px solid var(--line);padding:6px 0}table.excerpts td{border:none;padding:1px 0}
.incident table.excerpts td:nth-child(-n+3){display:inline-block;margin-right:10px}
table.coverage td,.fleet td{white-space:nowrap}
table.windows thead{display:none}table.windows,table.windows tbody,table.windows tr,table.windows td{display:block;width:auto}
table.windows tr{border-bottom:1px solid var(--line);padding:6px 0}table.windows td{border:none;padding:1px 0}
table.windows td.empty{display:none}table.windows td[data-label]::before{content:attr(data-label);color:var(--muted)}
.tablewrap{max-height:none}
table.findings,table.findings tbody,table.findings tr,table.findings td{display:block}
table.findings thead tr{display:flex;flex-wrap:wrap;gap:2px 10px}table.findings th{position:static;border:none;background:none;padding:2px 0}
table.findings tr{border-bottom:1px solid var(--line);padding:6px 4px}table.findings td{border:none;padding:1px 0;max-width:none!important}
table.findings td.col-evidence{max-height:8em;overflow:auto}
table.findings td.col-time,table.findings td.col-severity,table.findings td.col-kind,table.findings td.col-rule,table.findings td.col-incident,table.findings td.col-ip{display:inline-block;margin-right:8px}
table.findings td.col-evidence,table.findings td.col-summary{max-width:240px}
}
@page{size:A4;margin:12mm}
@media print{
body{background:#fff;font-size:11px}*{-webkit-print-color-adjust:exact;print-color-adjust:exact}
header.top{padding:6px 0}main{max-width:none;padding:0}
.filters{display:none}.tablewrap,.scroll{max-height:none;overflow:visible}
section.host{break-inside:auto;border:none;padding:0;margin:0 0 12px}.banner{margin:0 0 8px}
svg.timeline{min-width:0}
th,td{overflow-wrap:anywhere}.chip{white-space:normal}
th,table.findings td.col-time,table.findings td.col-severity,table.findings td.col-kind,table.findings td.col-rule,table.findings td.col-incident,table.findings td.col-ip{overflow-wrap:normal}thead{display:table-header-group}tr{break-inside:avoid}
table.findings td,table.findings th{font-size:9px;padding:2px 3px;max-width:none}
table.findings td.col-evidence,table.findings td.col-summary,table.findings td.col-source{max-width:none;font-size:8.5px}
.incident{break-inside:avoid-page}h3{break-after:avoid}
.incident td:nth-child(-n+3),table.findings td.col-rule,table.findings td.col-severity,table.findings td.col-incident{white-space:normal}
}
`;

function chip(text: string, color: string): string {
  return `<span class="chip" style="background:${color}">${esc(text)}</span>`;
}

function evidenceText(v: EvidenceValue): string {
  if (v === null) return '';
  if (Array.isArray(v)) return v.map((x) => String(x)).join(', ');
  return typeof v === 'object' ? JSON.stringify(v) : String(v);
}

function evidenceLine(f: Finding): string {
  const credit = creditLine(f);
  return [
    ...Object.entries(f.evidence)
      .filter(([, v]) => v !== null)
      .map(([k, v]) => `${k}=${evidenceText(v)}`),
    // The Detection Rule License asks every match of an adapted rule to keep the rule's author.
    ...(credit ? [`rule adapted from ${credit}`] : []),
  ].join('; ');
}

function sourceRef(f: Finding): string {
  return `${f.source.path}${f.source.line !== undefined ? `:${f.source.line}` : ''}${f.source.record !== undefined ? ` #${f.source.record}` : ''}`;
}

function banner(host: HostResult, stage: Stage): string {
  const v = VERDICT_TEXT[host.verdict];
  const counts = severityCounts(host);
  const attack = attackSpan(host);
  const cover = coverageSpan(host.coverage);
  const facts = [
    ['Furthest stage', STAGE_LABEL[stage]],
    ['Attack activity', attack.first === null ? 'none dated' : `${shortTime(attack.first)} → ${shortTime(attack.last)}`],
    ['Findings', `${host.findings.length} (critical ${counts.critical}, high ${counts.high}, medium ${counts.medium}, low ${counts.low})`],
    ['Logs cover', cover.first === null ? 'no readable logs' : `${shortDay(cover.first)} → ${shortDay(cover.last)}`],
  ];
  return `<div class="banner v-${esc(host.verdict)}">
<div class="verdict" data-verdict="${esc(host.verdict)}">${esc(v.label.toUpperCase())}</div>
<h2 class="hostname">${esc(hostTitle(host))}</h2>
<div class="meaning">${esc(v.meaning)}</div>
<div class="facts">${facts.map(([k, val]) => `<span><b>${esc(k)}:</b> ${esc(val)}</span>`).join('')}</div>
</div>
<h3>Why</h3>
<ul class="reasons">${host.reasons.map((r) => `<li>${esc(r)}</li>`).join('')}</ul>`;
}

/** One item of a step: a server path shows the evidence copy's path on hover and when opened. */
function stepItem(s: NextStep, item: string): string {
  const copy = s.evidencePaths?.[item];
  if (copy === undefined) return `<li class="mono">${esc(item)}</li>`;
  return `<li><details title="${esc(`In the evidence: ${copy}`)}"><summary class="mono">${esc(item)}</summary><span class="muted">In the evidence: </span><code>${esc(copy)}</code></details></li>`;
}

function stepsHtml(host: HostResult, since: string): string {
  const items = nextSteps(host, since).map((s) => {
    const commands = (s.commands ?? []).map((c) => `<pre class="cmd"><code>${esc(c)}</code></pre>`).join('');
    const list = s.items.length ? `<ul>${s.items.map((i) => stepItem(s, i)).join('')}</ul>` : '';
    return `<li data-step="${esc(s.id)}"><span class="title">${esc(s.title)}</span><div>${esc(s.detail)}</div>${commands}${list}</li>`;
  });
  return `<h3>What to do next</h3><ol class="steps">${items.join('')}</ol>`;
}

/** Lane order in the chart: the order an attack usually shows up in. */
const LANES = ['IIS', 'HttpProxy', 'ECP', 'OABGenerator', 'Files', 'Event logs', 'Other logs'];

/** Coverage bucket → chart lane (coverage uses source names like `HttpProxy/Ecp`, `IIS W3SVC1`, `ECP Server`). */
function coverageLane(c: Coverage): string {
  const s = `${c.format} ${c.source}`.toLowerCase();
  if (/httpproxy/.test(s)) return 'HttpProxy';
  if (/oab/.test(s)) return 'OABGenerator';
  if (/\becp\b/.test(s)) return 'ECP';
  if (/iis|w3svc/.test(s)) return 'IIS';
  if (/evtx|event/.test(s)) return 'Event logs';
  return 'Other logs';
}

/**
 * The time range drawn: the dated findings from logs (file times, often the day of collection, would squeeze the
 * attack into a pixel; they are drawn at the edge instead), or the coverage and window start when nothing is dated.
 */
function timeDomain(entries: TimelineEntry[], coverage: Coverage[], since: string): [number, number] | null {
  const logged = entries.filter((e) => e.source !== 'Files');
  const drawn = logged.length ? logged : entries;
  const pts = drawn.length
    ? drawn.flatMap((e) => [Date.parse(e.time), Date.parse(e.last)])
    : [Date.parse(since), ...coverage.flatMap((c) => [c.first, c.last]).filter((t): t is string => t !== null).map((t) => Date.parse(t))];
  const ok = pts.filter((t) => !Number.isNaN(t));
  if (!ok.length) return null;
  let lo = ok.reduce((a, b) => Math.min(a, b));
  let hi = ok.reduce((a, b) => Math.max(a, b));
  const pad = Math.max((hi - lo) * 0.04, 30 * MIN);
  lo -= pad;
  hi += pad;
  return [lo, hi];
}

const TICK_STEPS = [MIN, 5 * MIN, 15 * MIN, 30 * MIN, HOUR, 3 * HOUR, 6 * HOUR, 12 * HOUR, DAY, 2 * DAY, 7 * DAY, 14 * DAY, 30 * DAY, 91 * DAY, 182 * DAY, 365 * DAY];

/** Axis ticks on round UTC times (whole minutes, hours or days), at most about eight. */
function ticks(lo: number, hi: number): { at: number[]; label: (ms: number) => string } {
  const step = TICK_STEPS.find((st) => (hi - lo) / st <= 8) ?? 365 * DAY;
  const at: number[] = [];
  for (let t = Math.ceil(lo / step) * step; t <= hi; t += step) at.push(t);
  const label = (ms: number) => {
    const iso = new Date(ms).toISOString();
    return step >= DAY ? iso.slice(0, 10) : `${iso.slice(5, 10)} ${iso.slice(11, 16)}`;
  };
  return { at, label };
}

/** Inline SVG: one lane per evidence source, coverage as a faint band, findings as dots (bursts as bars). */
function timelineSvg(entries: TimelineEntry[], coverage: Coverage[], since: string): string {
  const domain = timeDomain(entries, coverage, since);
  const lanes = LANES.filter((l) => entries.some((e) => e.source === l) || coverage.some((c) => coverageLane(c) === l));
  if (!domain || !lanes.length) return '<p class="muted">Nothing dated to draw: no timed findings and no dated log records.</p>';
  const [lo, hi] = domain;
  const W = 1100;
  const left = 110;
  const right = 20;
  const laneH = 34;
  const top = 10;
  const H = top + lanes.length * laneH + 30;
  const x = (ms: number) => left + ((ms - lo) / (hi - lo)) * (W - left - right);
  const clampX = (ms: number) => Math.min(W - right, Math.max(left, x(ms)));
  const parts: string[] = [];
  lanes.forEach((lane, i) => {
    const y = top + i * laneH;
    parts.push(`<rect x="${left}" y="${y + 4}" width="${W - left - right}" height="${laneH - 8}" fill="#f8fafc" stroke="#e2e8f0"/>`);
    parts.push(`<text x="${left - 8}" y="${y + laneH / 2 + 4}" text-anchor="end">${esc(lane)}</text>`);
    for (const c of coverage.filter((cv) => coverageLane(cv) === lane && cv.first !== null && cv.last !== null)) {
      const a = clampX(Date.parse(c.first as string));
      const b = clampX(Date.parse(c.last as string));
      if (b > a || (b === a && a > left && a < W - right)) {
        parts.push(`<rect class="cov" x="${a.toFixed(1)}" y="${y + 8}" width="${Math.max(b - a, 1).toFixed(1)}" height="${laneH - 16}" fill="#dbeafe"><title>${esc(`${c.source}: logs ${shortTime(c.first)} → ${shortTime(c.last)}`)}</title></rect>`);
      }
    }
  });
  const sinceMs = Date.parse(since);
  if (!Number.isNaN(sinceMs) && sinceMs >= lo && sinceMs <= hi) {
    parts.push(`<line x1="${x(sinceMs).toFixed(1)}" x2="${x(sinceMs).toFixed(1)}" y1="${top}" y2="${top + lanes.length * laneH}" stroke="#2563eb" stroke-dasharray="4 3"/><text x="${(x(sinceMs) + 3).toFixed(1)}" y="${top + 9}" fill="#2563eb">window start</text>`);
  }
  // SVG paints in document order: the worst entries last, so a red web-shell dot is never hidden under a grey one.
  const paintOrder = [...entries].sort((a, b) => SEVERITY_RANK[a.severity] - SEVERITY_RANK[b.severity] || STAGE_RANK[a.stage] - STAGE_RANK[b.stage]);
  for (const e of paintOrder) {
    const i = lanes.indexOf(e.source);
    const cy = top + i * laneH + laneH / 2;
    const start = Date.parse(e.time);
    const outside = start < lo || start > hi;
    const a = clampX(start);
    const b = clampX(Date.parse(e.last));
    const r = Math.min(9, 3.5 + Math.log10(e.count) * 2.5);
    const color = STAGE_COLOR[e.stage];
    const label = `${shortTime(e.time)}${e.last !== e.time ? ` → ${shortTime(e.last)}` : ''}  ${e.rule}${e.count > 1 ? ` ×${e.count}` : ''}  ${e.title}${e.client_ip ? `  from ${e.client_ip}` : ''}${e.incident ? `  (${e.incident})` : ''}  [${e.stage}]${outside ? '  (outside the drawn range, shown at its edge)' : ''}`;
    const bar = b - a > 2 ? `<line x1="${a.toFixed(1)}" x2="${b.toFixed(1)}" y1="${cy}" y2="${cy}" stroke="${color}" stroke-width="4" stroke-linecap="round" opacity=".6"/>` : '';
    const dot = outside
      ? `<circle cx="${a.toFixed(1)}" cy="${cy}" r="${r.toFixed(1)}" fill="#fff" stroke="${color}" stroke-width="2"/>`
      : `<circle cx="${a.toFixed(1)}" cy="${cy}" r="${r.toFixed(1)}" fill="${color}" stroke="#fff"/>`;
    parts.push(`<g class="ev" data-stage="${esc(e.stage)}" data-severity="${esc(e.severity)}">${bar}${dot}<title>${esc(label)}</title></g>`);
  }
  const axisY = top + lanes.length * laneH;
  parts.push(`<line x1="${left}" x2="${W - right}" y1="${axisY}" y2="${axisY}" stroke="#94a3b8"/>`);
  const axis = ticks(lo, hi);
  for (const ms of axis.at) {
    const tx = x(ms);
    parts.push(`<line x1="${tx.toFixed(1)}" x2="${tx.toFixed(1)}" y1="${axisY}" y2="${axisY + 4}" stroke="#94a3b8"/><text x="${tx.toFixed(1)}" y="${axisY + 17}" text-anchor="middle">${esc(axis.label(ms))}</text>`);
  }
  const legend = (Object.keys(STAGE_COLOR) as Stage[])
    .filter((s) => entries.some((e) => e.stage === s))
    .map((s) => `<span><i style="background:${STAGE_COLOR[s]}"></i>${esc(STAGE_LABEL[s])}</span>`)
    .join('');
  return `<div class="scroll timeline-wrap"><svg class="timeline" role="img" aria-label="Attack timeline by evidence source" viewBox="0 0 ${W} ${H}">${parts.join('')}</svg></div>
<div class="legend">${legend}<span><i style="background:#dbeafe;border-radius:0"></i>log coverage</span> Hollow dot: outside the drawn range (usually a file time). Times in UTC; hover a dot for details.</div>`;
}

const EXCERPT_KEYS = ['url', 'status', 'method', 'anchor_mailbox', 'cmdlet', 'file', 'ecp_canary', 'request_id', 'user_agent', 'sha256'];

function excerpt(f: Finding): string {
  const keys = EXCERPT_KEYS.filter((k) => f.evidence[k] !== undefined && f.evidence[k] !== null);
  return keys.map((k) => `${k}=${evidenceText(f.evidence[k])}`).join('  ');
}

/**
 * The findings that tell the story: the strongest finding of each rule (furthest stage, then severity), at most
 * MAX_EXCERPTS rules, shown in time order. Indicator matches do not crowd out the exploit.
 */
function excerpts(list: Finding[]): Finding[] {
  const weight = (f: Finding) => STAGE_RANK[f.stage ?? 'none'] * 10 + SEVERITY_RANK[f.severity];
  const best = new Map<string, Finding>();
  for (const f of list) {
    const cur = best.get(f.rule);
    if (!cur || weight(f) > weight(cur)) best.set(f.rule, f);
  }
  const order = new Map(list.map((f, i) => [f, i]));
  return [...best.values()]
    .sort((a, b) => weight(b) - weight(a))
    .slice(0, MAX_EXCERPTS)
    .sort((a, b) => (order.get(a) ?? 0) - (order.get(b) ?? 0));
}

function incidentHtml(inc: Incident, byId: Map<string, Finding>): string {
  const list = inc.findings.map((id) => byId.get(id)).filter((f): f is Finding => f !== undefined);
  const shown = excerpts(list);
  const rows = shown
    .map((f) => `<tr><td class="mono">${esc(shortTime(f.time))}</td><td>${esc(f.rule)}</td><td>${esc(f.lane)}</td><td>${esc(f.summary)}<div class="mono muted">${esc(excerpt(f))}</div><div class="mono muted">${esc(sourceRef(f))}</div>${f.credits?.length ? `<div class="muted">Rule adapted from ${esc(creditLine(f))}</div>` : ''}</td></tr>`)
    .join('');
  const more = list.length > shown.length ? `<p class="muted">Strongest finding of each rule shown; all ${list.length} are in the findings table (filter “${esc(inc.id)}”).</p>` : '';
  const keys = [
    inc.keys.files.length ? `files: ${inc.keys.files.join(', ')}` : '',
    inc.keys.ecp_canaries.length ? `ECP canaries: ${inc.keys.ecp_canaries.join(', ')}` : '',
    inc.keys.request_ids.length ? `request ids: ${inc.keys.request_ids.length}` : '',
  ].filter((k) => k !== '');
  return `<div class="incident" style="border-left-color:${STAGE_COLOR[inc.stage]}">
<div class="head">${esc(inc.id)} ${chip(STAGE_LABEL[inc.stage], STAGE_COLOR[inc.stage])} <span class="muted">${esc(shortTime(inc.first))} → ${esc(shortTime(inc.last))} · ${inc.findings.length} findings · ${esc(inc.sources.join(', '))}</span></div>
<p>${esc(inc.narrative)}</p>
${keys.length ? `<div class="mono muted">${esc(keys.join(' · '))}</div>` : ''}
<div class="scroll"><table class="excerpts"><thead><tr><th>Time (UTC)</th><th>Rule</th><th>Source</th><th>Evidence</th></tr></thead><tbody>${rows}</tbody></table></div>${more}
</div>`;
}

const WINDOW_STATE: Record<WindowState, [string, string]> = {
  gap: ['logs miss part', '#b91c1c'],
  covered: ['logs cover it', '#15803d'],
  'not assessable': ['not assessable from logs', '#b45309'],
  'not exposed': ['not exposed', '#64748b'],
};

/** Per exploited family: exposed from A to B (why), logs cover C to D, and the uncovered part highlighted. */
function windowsHtml(host: HostResult): string {
  const rows = windowRows(host);
  if (!rows.length) return '';
  const body = rows
    .map((r) => {
      const [label, color] = WINDOW_STATE[r.state];
      const gap = r.gap ? `<div class="gap">${esc(r.gap)}</div>` : '';
      return `<tr class="w-${r.state === 'gap' ? 'gap' : 'ok'}" data-family="${esc(r.family)}" data-state="${esc(r.state)}"><td><b>${esc(r.name)}</b><div class="mono muted">${esc(r.cves.join(' '))}</div></td><td>${chip(label, color)}</td><td class="mono col-span${r.exposed ? '' : ' empty'}" data-label="exposed ">${r.exposed ? esc(r.exposed) : '—'}</td><td class="mono${r.logs || gap ? '' : ' empty'}" data-label="logs ">${r.logs ? esc(r.logs) : '—'}${gap}</td><td class="why">${esc(r.why)}</td></tr>`;
    })
    .join('');
  return `<h3>Exposure windows</h3><p class="muted">When the server was open to each exploited family, and whether the HttpProxy / IIS logs cover that time. <code>clean</code> needs every window of a family exhunt detects in logs covered.</p><div class="scroll"><table class="windows"><thead><tr><th>Family</th><th>State</th><th>Exposed (UTC)</th><th>Logs cover</th><th>Why</th></tr></thead><tbody>${body}</tbody></table></div>`;
}

function coverageHtml(host: HostResult): string {
  if (!host.coverage.length) return '<h3>Coverage</h3><p><b>No readable logs</b> were found in this evidence.</p>';
  const rows = host.coverage
    .map((c) => `<tr><td>${esc(c.source)}${c.not_exchange ? ' <span class="muted">(another website: no Exchange coverage)</span>' : ''}</td><td>${esc(c.format)}</td><td>${esc(String(c.files))}</td><td>${esc(String(c.records))}</td><td class="mono">${esc(shortTime(c.first))}</td><td class="mono">${esc(shortTime(c.last))}</td></tr>`)
    .join('');
  return `<h3>Coverage</h3><div class="scroll"><table class="coverage"><thead><tr><th>Source</th><th>Format</th><th>Files</th><th>Records</th><th>First record</th><th>Last record</th></tr></thead><tbody>${rows}</tbody></table></div>`;
}

function skippedHtml(host: HostResult): string {
  const s = host.stats;
  const stats = `<p class="muted">${esc(`${s.files_seen} files seen, ${s.files_scanned} read, ${s.files_ignored} ignored as unrelated; ${(s.bytes_scanned / 1e6).toFixed(1)} MB in ${s.seconds.toFixed(1)} s.`)} Inputs: ${host.inputs.map((i) => `<code>${esc(i)}</code>`).join(', ')}</p>`;
  if (!host.skipped.length) return `<h3>Skipped inputs</h3><p>Nothing skipped.</p>${stats}`;
  const rows = host.skipped
    .slice(0, MAX_SKIPPED)
    .map((k) => `<tr><td class="mono">${esc(k.path)}${k.line !== undefined ? `:${k.line}` : ''}</td><td>${esc(k.reason)}</td></tr>`)
    .join('');
  const more = host.skipped.length > MAX_SKIPPED ? `<p class="muted">… ${host.skipped.length - MAX_SKIPPED} more in the JSON report.</p>` : '';
  return `<h3>Skipped inputs (${host.skipped.length})</h3><div class="scroll"><table><thead><tr><th>Path</th><th>Reason</th></tr></thead><tbody>${rows}</tbody></table></div>${more}${stats}`;
}

export function hostHtml(host: HostResult, index: number, since: string): string {
  const { incidents, timeline, stage } = host;
  const byId = new Map(host.findings.map((f) => [f.id, f]));
  const incidentsBlock = incidents.length ? incidents.map((inc) => incidentHtml(inc, byId)).join('') : '<p class="muted">No incidents: no attack findings to join.</p>';
  return `<section class="host" id="host-${index}" data-verdict="${esc(host.verdict)}">
${banner(host, stage)}
${stepsHtml(host, since)}
${windowsHtml(host)}
<h3>Timeline</h3>${timelineSvg(timeline, host.coverage, since)}
<h3>Incidents (${incidents.length})</h3>${incidentsBlock}
<h3>Findings (${host.findings.length})</h3><div class="findings-host" id="findings-${index}"><noscript><p>The findings table needs JavaScript; the JSON and NDJSON reports hold every finding.</p></noscript></div>
${coverageHtml(host)}
${skippedHtml(host)}
</section>`;
}

function fleetHtml(hosts: readonly HostDigest[]): string {
  const order = hosts.map((h, i) => ({ h, i })).sort((a, b) => VERDICT_ORDER[a.h.verdict] - VERDICT_ORDER[b.h.verdict] || hostTitle(a.h).localeCompare(hostTitle(b.h)));
  const rows = order
    .map(({ h, i }) => {
      const c = h.counts;
      const a = h.attack;
      const cov = coverageSpan(h.coverage);
      return `<tr><td><a href="#host-${i}">${esc(hostTitle(h))}</a></td><td><span class="chip v-${esc(h.verdict)}">${esc(h.verdict)}</span></td><td>${esc(STAGE_LABEL[h.stage])}</td><td>${c.critical}</td><td>${c.high}</td><td>${c.medium}</td><td>${c.low}</td><td class="mono">${esc(shortTime(a.first))}</td><td class="mono">${esc(shortTime(a.last))}</td><td class="mono">${cov.first === null ? 'no logs' : `${esc(shortDay(cov.first))} → ${esc(shortDay(cov.last))}`}</td></tr>`;
    })
    .join('');
  return `<section class="host fleet" id="fleet"><h3>${hosts.length} hosts: ${esc(verdictCounts(hosts))}</h3>
<div class="scroll"><table><thead><tr><th>Host</th><th>Verdict</th><th>Stage</th><th>Crit</th><th>High</th><th>Med</th><th>Low</th><th>First attack</th><th>Last attack</th><th>Logs cover</th></tr></thead><tbody>${rows}</tbody></table></div></section>`;
}

/** The table rows the client script renders, for one host (the page's data is `{"hosts":[…]}` of these). */
export function hostTableData(h: HostResult): string {
  const incidentOf = new Map<string, string>();
  for (const inc of h.incidents) for (const id of inc.findings) incidentOf.set(id, inc.id);
  return scriptJson({
    name: h.name,
    findings: h.findings.map((f) => ({
      id: f.id,
      time: f.time,
      severity: f.severity,
      kind: f.kind,
      rule: f.rule,
      title: f.title,
      incident: incidentOf.get(f.id) ?? null,
      ip: f.client_ip,
      summary: f.summary,
      evidence: evidenceLine(f),
      source: sourceRef(f),
    })),
  });
}

/**
 * The header facts: when the report was made (a stale report shows it), by which exhunt and rule set, and the
 * time the evidence spans (earliest to latest log record over all hosts).
 */
function meta(tool: ToolInfo, hosts: readonly HostDigest[]): Array<[string, string]> {
  const span = coverageSpan(hosts.flatMap((h) => h.coverage));
  return [
    ['Generated', shortTime(tool.finished)],
    ['exhunt', tool.version],
    ['Rule set', rulesetVersion()],
    ['Evidence spans', span.first === null ? 'no dated log records' : `${shortTime(span.first)} → ${shortTime(span.last)}`],
    ['Window from', shortDay(tool.options.since)],
    ['Times', 'UTC'],
  ];
}

/**
 * The head of a self-contained page: a strict CSP that allows only inline styles and the one script with this
 * hash, no referrer, the (escaped) title. Shared by the scan report and the fleet report.
 */
export function htmlHead(title: string, css: string, script: string): string {
  const hash = createHash('sha256').update(script, 'utf8').digest('base64');
  const csp = `default-src 'none'; style-src 'unsafe-inline'; script-src 'sha256-${hash}'; base-uri 'none'; form-action 'none'`;
  return `<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta http-equiv="Content-Security-Policy" content="${esc(csp)}">
<meta name="referrer" content="no-referrer">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>${esc(title)}</title>
<style>${css}</style>
</head>`;
}

/** One self-contained HTML file for the whole scan. Deterministic: same report in, same bytes out. */
export function renderHtml(report: ScanReport): string {
  const parts = htmlParts(report.tool, report.hosts.map(hostDigest));
  const sections = report.hosts.map((h, i) => hostHtml(h, i, report.tool.options.since)).join('\n');
  return `${parts.top}${report.hosts.length ? sections : parts.noHosts}${parts.middle}${report.hosts.map(hostTableData).join(',')}${parts.bottom}`;
}

/**
 * The page around the host sections and the table data, from what is known at the end of a scan: a streamed report
 * writes top, the sections (joined by a newline; `noHosts` when none), middle, the hosts' table data (joined by a
 * comma), bottom.
 */
export function htmlParts(tool: ToolInfo, hosts: readonly HostDigest[]): { top: string; noHosts: string; middle: string; bottom: string } {
  const worst = [...hosts].sort((a, b) => VERDICT_ORDER[a.verdict] - VERDICT_ORDER[b.verdict])[0];
  const title = hosts.length === 1 && worst ? `${hostTitle(worst)}: ${worst.verdict}` : `${hosts.length} hosts: ${verdictCounts(hosts) || 'none'}`;
  const top = `${htmlHead(`exhunt report — ${title}`, CSS, CLIENT_JS)}
<body>
<header class="top"><h1>exhunt report — ${esc(title)}</h1>
<div class="meta">${meta(tool, hosts).map(([k, v]) => `<span><b>${esc(k)}</b> ${esc(v)}</span>`).join(' · ')}</div></header>
<main>
${hosts.length > 1 ? fleetHtml(hosts) : ''}
`;
  const middle = `
</main>
<script type="application/json" id="exhunt-data">{"hosts":[`;
  const bottom = `]}</script>
<script>${CLIENT_JS}</script>
</body>
</html>
`;
  return { top, noHosts: '<p>No hosts were scanned.</p>', middle, bottom };
}
