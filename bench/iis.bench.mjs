// Issue 4 speed and memory check for IIS W3C logs: `exhunt scan` against `rg -c -F -i` over the same corpus, same
// run, warm page cache — the same method as bench/httpproxy.bench.mjs.
//
//   npm run bench iis                 (builds, then runs this file)
//   EXHUNT_BENCH_GB=0.5 node bench/iis.bench.mjs
//
// Corpus: bench/.corpus/iis/ (gitignored), ~EXHUNT_BENCH_GB GB (default 2) of default-layout Exchange IIS lines
// (~330 B each) in daily u_exYYMMDD.log files under W3SVC1 (front end, the busy site) and W3SVC2 (back end, port
// 444): ActiveSync, EWS, MAPI, RPC, OWA pages and static files, autodiscover (Outlook mobile's autodiscover.json
// too), ECP, health-probe PowerShell. One real attack line (HelseCERT web-shell access, hamad-she ProxyShell
// shape, OWASSRF, a cmd=whoami shell call, a Volexity POST) is planted per ~50 MB. Reused when its manifest matches.
//
// ripgrep gets the union of the needles of every record rule that reads `iis` (from dist/engine/registry.js),
// once with -i (exhunt matches them case-insensitively). Both use every core. Best of 3 each.
// Fails (exit 1) when exhunt does not report exactly the planted lines or its peak RSS reaches 256 MB; prints the
// ratio against the issue target (exhunt >= 1/3 of rg) without failing on it.
import { spawnSync } from 'node:child_process';
import { closeSync, existsSync, mkdirSync, openSync, readFileSync, readSync, rmSync, statSync, writeFileSync, writeSync } from 'node:fs';
import { availableParallelism, tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';

const REPO = dirname(dirname(fileURLToPath(import.meta.url)));
const CORPUS = join(REPO, 'bench', '.corpus', 'iis');
const GB = Number(process.env.EXHUNT_BENCH_GB ?? '2');
const RUNS = 3;
const RSS_LIMIT_MB = 256;
const TARGET_RATIO = 1 / 3;
const PLANT_EVERY = 50e6;
const CORPUS_VERSION = 1;
const SEED = 20210305;
const DAYS = 6;

if (!(GB > 0)) throw new Error(`EXHUNT_BENCH_GB must be a positive number, got ${process.env.EXHUNT_BENCH_GB}`);
const DIST = join(REPO, 'dist');
if (!existsSync(join(DIST, 'cli', 'main.js'))) {
  console.error('dist/ is missing: run `npm run build` first (npm run bench does).');
  process.exit(1);
}

function rng(seed) {
  let a = seed >>> 0;
  const next = () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
  const int = (lo, hi) => lo + Math.floor(next() * (hi - lo + 1));
  const hex = (n) => Array.from({ length: n }, () => '0123456789abcdef'[int(0, 15)]).join('');
  return { int, hex, pick: (l) => l[Math.floor(next() * l.length)], guid: () => `${hex(8)}-${hex(4)}-4${hex(3)}-${'89ab'[int(0, 3)]}${hex(3)}-${hex(12)}` };
}

const FIELDS = 'date time s-ip cs-method cs-uri-stem cs-uri-query s-port cs-username c-ip cs(User-Agent) cs(Referer) sc-status sc-substatus sc-win32-status time-taken';
const HEAD = (date) => `#Software: Microsoft Internet Information Services 10.0\r\n#Version: 1.0\r\n#Date: ${date} 00:00:00\r\n#Fields: ${FIELDS}\r\n`;
const TS0 = '2021-03-03 00:00:00'; // 19 characters, rewritten per line
const CHROME = 'Mozilla/5.0+(Windows+NT+10.0;+Win64;+x64)+AppleWebKit/537.36+(KHTML,+like+Gecko)+Chrome/88.0.4324.182+Safari/537.36';
const line = (f) => [TS0, f.sip ?? '10.1.1.5', f.m, f.stem, f.q || '-', f.port ?? 443, f.user || '-', f.ip, f.ua || '-', f.ref || '-', f.s ?? 200, 0, 0, f.t ?? 15].join(' ');
const cafe = (r) => `&CorrelationID=<empty>;&cafeReqId=${r.guid()};&encoding=;`;

/** Front-end benign lines, weighted like a busy Exchange server (ActiveSync and EWS dominate). */
function frontEnd(r, n) {
  const out = [];
  for (let i = 0; i < n; i++) {
    const u = `CORP\\user${r.int(1000, 9999)}`;
    const ip = `${r.pick(['203.0.113', '198.51.100', '192.0.2'])}.${r.int(2, 254)}`;
    const kind = r.int(0, 99);
    let f;
    if (kind < 35) f = { m: 'POST', stem: '/Microsoft-Server-ActiveSync/default.eas', q: `Cmd=${r.pick(['Sync', 'Ping', 'FolderSync'])}&User=user${r.int(1000, 9999)}&DeviceId=${r.hex(32).toUpperCase()}&DeviceType=iPhone${cafe(r)}`, user: u, ip, ua: `Apple-iPhone${r.int(10, 15)}C${r.int(1, 5)}/${r.int(1800, 2100)}.${r.int(10, 99)}`, t: r.int(50, 900000) };
    else if (kind < 55) f = { m: 'POST', stem: '/EWS/Exchange.asmx', q: cafe(r), user: u, ip, ua: `Microsoft+Office/16.0+(Windows+NT+10.0;+Microsoft+Outlook+16.0.${r.int(10000, 16000)};+Pro)` };
    else if (kind < 70) f = { m: 'POST', stem: '/mapi/emsmdb/', q: `mailboxId=${r.guid()}@corp.example.org${cafe(r)}`, user: u, ip, ua: 'Microsoft+Office/16.0+(Windows+NT+10.0;+Microsoft+Outlook+16.0.13901;+Pro)' };
    else if (kind < 76) f = { m: 'RPC_IN_DATA', stem: '/rpc/rpcproxy.dll', q: `mail01.corp.example.org:6001${cafe(r)}`, user: u, ip, ua: 'MSRPC' };
    else if (kind < 84) f = { m: 'GET', stem: `/owa/${r.pick(['prem', 'auth'])}/15.1.2176/${r.pick(['scripts/boot.worker.js', 'themes/resources/segoeui-regular.ttf', 'resources/images/0/sprite1.mouse.png', 'scripts/premium/flogon.js'])}`, q: cafe(r), ip, ua: CHROME, ref: 'https://mail.example.org/owa/' };
    else if (kind < 88) f = { m: r.pick(['GET', 'POST']), stem: r.pick(['/owa/auth/logon.aspx', '/owa/auth.owa', '/owa/', '/owa/service.svc']), q: `${r.pick(['', 'action=GetItem&app=Mail'])}${cafe(r)}`, user: r.int(0, 1) ? u : '', ip, ua: CHROME, s: r.pick([200, 302]) };
    else if (kind < 93) f = { m: 'POST', stem: '/autodiscover/autodiscover.xml', q: cafe(r), user: u, ip, ua: 'Microsoft+Office/16.0+(Windows+NT+10.0;+Microsoft+Outlook+16.0.13901;+Pro)' };
    else if (kind < 95) f = { m: 'GET', stem: `/autodiscover/autodiscover.json/v1.0/user${r.int(1000, 9999)}@example.org`, q: `Protocol=ActiveSync&RedirectCount=1${cafe(r)}`, ip, ua: 'Outlook-iOS/723.4027091.prod.iphone+(4.2305.0)' };
    else if (kind < 97) f = { m: 'POST', stem: '/ecp/RulesEditor/InboxRules.svc/GetList', q: `msExchEcpCanary=${r.hex(43)}.${cafe(r)}`, user: u, ip, ua: CHROME };
    else f = { m: 'POST', stem: '/powershell', q: `clientApplication=ActiveMonitor;PSVersion=5.1.14393.4169${cafe(r)}`, user: `CORP\\HealthMailbox${r.hex(7)}`, ip: '10.1.1.5', ua: 'Microsoft+WinRM+Client' };
    out.push(line(f));
  }
  return out;
}

function backEnd(r, n) {
  const out = [];
  for (let i = 0; i < n; i++) {
    const u = `CORP\\user${r.int(1000, 9999)}`;
    const kind = r.int(0, 9);
    const f =
      kind < 4 ? { m: 'POST', stem: '/mapi/emsmdb/', q: `mailboxId=${r.guid()}@corp.example.org`, user: u, ua: 'Microsoft+Office/16.0' }
      : kind < 7 ? { m: 'POST', stem: '/Microsoft-Server-ActiveSync/Proxy/default.eas', q: `Cmd=Sync&User=user${r.int(1000, 9999)}`, user: u, ua: 'Apple-iPhone13C2/1905.100' }
      : kind < 9 ? { m: 'POST', stem: '/EWS/Exchange.asmx', q: '', user: u, ua: 'Microsoft+Office/16.0' }
      : { m: 'POST', stem: '/powershell', q: 'clientApplication=ActiveMonitor;PSVersion=5.1.14393.4169', user: `CORP\\HealthMailbox${r.hex(7)}`, ua: 'Microsoft+WinRM+Client' };
    out.push(line({ ...f, port: 444, ip: '10.1.1.5' }));
  }
  return out;
}

/** Real attack lines (values from HelseCERT, hamad-she, the OWASSRF write-ups) padded into the default layout. */
function attacks(r) {
  return [
    line({ m: 'GET', stem: '/owa/auth/RedirSuiteServerProxy.aspx', q: cafe(r), ip: '139.162.202.236', ua: 'Mozilla/5.0+(Windows+NT+10.0;+Win64;+x64)+AppleWebKit/537.36+(KHTML,+like+Gecko)+Chrome/65.0.2345+Safari/537.36' }),
    line({ m: 'POST', stem: '/autodiscover/autodiscover.json', q: `@evil.corp/powershell/?X-Rps-CAT=VgHvv71UB1dpbmRvd3ND77&Email=autodiscover/autodiscover.json%3F@evil.corp${cafe(r)}`, ip: '198.51.100.66', ua: 'Mozilla/5.0' }),
    line({ m: 'POST', stem: '/owa/mastermailbox%40outlook.com/powershell', q: cafe(r), ip: '198.51.100.67', ua: CHROME }),
    line({ m: 'GET', stem: '/aspnet_client/system_web/aKdMadOeT.aspx', q: 'cmd=whoami', ip: '198.51.100.68', ua: CHROME }),
    line({ m: 'POST', stem: '/owa/auth/Current/themes/resources/logon.css', q: cafe(r), ip: '198.51.100.69', ua: 'DuckDuckBot/1.0;+(+http://duckduckgo.com/duckduckbot.html)', s: 500 }),
  ];
}

function writeLog(abs, head, pool, target, plants, dayMs, r) {
  mkdirSync(dirname(abs), { recursive: true });
  const fd = openSync(abs, 'w');
  const BUF = 8 * 1024 * 1024;
  const buf = Buffer.allocUnsafe(BUF);
  let used = buf.write(head, 0, 'latin1');
  let written = 0;
  let lineNo = head.split('\r\n').length - 1;
  const planted = [];
  const poolBufs = pool.map((s) => Buffer.from(s + '\r\n', 'latin1'));
  const plantBufs = plants.rows.map((s) => Buffer.from(s + '\r\n', 'latin1'));
  const avg = poolBufs.reduce((s, b) => s + b.length, 0) / poolBufs.length;
  const step = 86_400_000 / Math.max(1, Math.round(target / avg));
  let k = 0;
  while (written + used < target) {
    let src;
    if (plants.state.offset + written + used >= plants.state.next) {
      src = plantBufs[plants.state.count++ % plantBufs.length];
      planted.push(lineNo + 1);
      plants.state.next += plants.every;
    } else src = poolBufs[r.int(0, poolBufs.length - 1)];
    if (used + src.length > BUF) {
      writeSync(fd, buf, 0, used);
      written += used;
      used = 0;
    }
    src.copy(buf, used);
    buf.write(new Date(dayMs + Math.floor(k * step)).toISOString().slice(0, 19).replace('T', ' '), used, 'latin1');
    used += src.length;
    lineNo++;
    k++;
  }
  writeSync(fd, buf, 0, used);
  closeSync(fd);
  plants.state.offset += written + used;
  return planted;
}

function buildCorpus() {
  const manifestPath = `${CORPUS}.manifest.json`;
  const params = { version: CORPUS_VERSION, gb: GB, seed: SEED, plantEvery: PLANT_EVERY, days: DAYS };
  if (existsSync(manifestPath)) {
    try {
      const m = JSON.parse(readFileSync(manifestPath, 'utf8'));
      if (JSON.stringify(m.params) === JSON.stringify(params) && m.files.every((f) => existsSync(join(CORPUS, f.rel)) && statSync(join(CORPUS, f.rel)).size === f.size)) {
        console.log(`corpus: reusing ${CORPUS} (${(m.bytes / 1e9).toFixed(2)} GB)`);
        return m;
      }
    } catch {
      // regenerate
    }
  }
  const t0 = performance.now();
  rmSync(CORPUS, { recursive: true, force: true });
  const r = rng(SEED);
  const fe = frontEnd(r, 2048);
  const be = backEnd(r, 512);
  const rows = attacks(r);
  const state = { offset: 0, next: r.int(Math.floor(PLANT_EVERY / 4), PLANT_EVERY), count: 0 };
  const files = [];
  const planted = [];
  for (let d = 0; d < DAYS; d++) {
    const dayMs = Date.parse('2021-03-03T00:00:00Z') + d * 86_400_000;
    const date = new Date(dayMs).toISOString().slice(0, 10);
    const name = `u_ex${date.slice(2).replace(/-/g, '')}.log`;
    for (const [site, pool, share] of [['W3SVC1', fe, 0.8], ['W3SVC2', be, 0.2]]) {
      const rel = `inetpub/logs/LogFiles/${site}/${name}`;
      // Attacks land on the front end only (the back-end pool has its own machine-account lines).
      const plants = site === 'W3SVC1' ? { rows, every: PLANT_EVERY / 0.8, state } : { rows: [], every: Infinity, state: { offset: 0, next: Infinity, count: 0 } };
      const lines = writeLog(join(CORPUS, rel), HEAD(date), pool, (GB * 1e9 * share) / DAYS, plants, dayMs, r);
      files.push({ rel, size: statSync(join(CORPUS, rel)).size });
      for (const l of lines) planted.push(`${rel}:${l}`);
    }
  }
  const manifest = { params, bytes: files.reduce((s, f) => s + f.size, 0), files, planted: planted.sort() };
  writeFileSync(manifestPath, JSON.stringify(manifest, null, 1));
  console.log(`corpus: wrote ${files.length} files, ${(manifest.bytes / 1e9).toFixed(2)} GB, ${planted.length} planted attack lines in ${((performance.now() - t0) / 1000).toFixed(1)} s`);
  return manifest;
}

function warm(manifest) {
  const buf = Buffer.allocUnsafe(16 * 1024 * 1024);
  for (const f of manifest.files) {
    const fd = openSync(join(CORPUS, f.rel), 'r');
    while (readSync(fd, buf, 0, buf.length, null) > 0);
    closeSync(fd);
  }
}

async function needles() {
  const { RECORD_RULES } = await import(pathToFileURL(join(DIST, 'engine', 'registry.js')).href);
  const rules = RECORD_RULES.filter((rule) => rule.formats.includes('iis'));
  return { list: [...new Set(rules.flatMap((rule) => rule.needles.map((x) => x.toLowerCase())))], rules: rules.length };
}

function time(cmd, args) {
  const t0 = performance.now();
  const r = spawnSync(cmd, args, { encoding: 'utf8', maxBuffer: 64 * 1024 * 1024 });
  return { ms: performance.now() - t0, r };
}

function runRg(n) {
  const { ms, r } = time('rg', ['-c', '-F', '-i', '--no-ignore', '--hidden', ...n.list.flatMap((x) => ['-e', x]), CORPUS]);
  if (r.error) throw new Error(`rg could not run (${r.error.message}): install ripgrep`);
  if (r.status !== 0 && r.status !== 1) throw new Error(`rg failed (${r.status}): ${r.stderr}`);
  return { ms, lines: r.stdout.split('\n').filter(Boolean).reduce((s, l) => s + Number(l.slice(l.lastIndexOf(':') + 1)), 0) };
}

function runExhunt(json) {
  const args = [process.execPath, join(DIST, 'cli', 'main.js'), 'scan', CORPUS, '--json', json, '-q', '--jobs', String(availableParallelism())];
  const { ms, r } = existsSync('/usr/bin/time') ? time('/usr/bin/time', ['-f', 'maxrss_kb=%M', ...args]) : time(process.execPath, [fileURLToPath(import.meta.url), '--child', ...args.slice(2)]);
  if (r.status !== 0 && r.status !== 1) throw new Error(`exhunt scan failed (${r.status}): ${r.stderr}`);
  const m = /maxrss_kb=(\d+)/.exec(r.stderr);
  if (!m) throw new Error(`no peak RSS reported: ${r.stderr}`);
  return { ms, rssMb: Number(m[1]) / 1024 };
}

async function child(args) {
  process.argv = [process.argv[0], join(DIST, 'cli', 'main.js'), ...args];
  process.on('exit', () => process.stderr.write(`maxrss_kb=${process.resourceUsage().maxRSS}\n`));
  await import(pathToFileURL(join(DIST, 'cli', 'main.js')).href);
}

function verify(json, manifest) {
  const report = JSON.parse(readFileSync(json, 'utf8'));
  // Exposure findings (a vulnerable build read from /owa/auth/<build>/ paths) describe the host, not an attack line.
  const lineFindings = report.hosts.flatMap((h) => h.findings.filter((f) => f.kind !== 'exposure'));
  const found = [...new Set(lineFindings.map((f) => `${f.source.path}:${f.source.line}`))].sort();
  const missing = manifest.planted.filter((x) => !found.includes(x));
  const extra = found.filter((x) => !manifest.planted.includes(x));
  return { ok: missing.length === 0 && extra.length === 0, found: found.length, findings: lineFindings.length, rules: [...new Set(lineFindings.map((f) => f.rule))].sort(), missing, extra };
}

async function main() {
  const t0 = performance.now();
  const manifest = buildCorpus();
  const n = await needles();
  console.log(`needles (${n.rules} rules on iis, rg -i): ${n.list.join(' | ')}`);
  warm(manifest);
  const json = join(tmpdir(), `exhunt-bench-iis-${process.pid}.json`);
  const ex = [];
  const rg = [];
  let check = null;
  for (let i = 0; i < RUNS; i++) {
    ex.push(runExhunt(json));
    if (i === 0) check = verify(json, manifest);
    rg.push(runRg(n));
  }
  rmSync(json, { force: true });
  const mb = manifest.bytes / 1e6;
  const bestEx = Math.min(...ex.map((x) => x.ms));
  const bestRg = Math.min(...rg.map((x) => x.ms));
  const peak = Math.max(...ex.map((x) => x.rssMb));
  const ratio = mb / bestEx / (mb / bestRg);
  const pad = (s, w) => String(s).padEnd(w);
  console.log('');
  console.log(`corpus   ${(manifest.bytes / 1e9).toFixed(2)} GB in ${manifest.files.length} files, ${manifest.planted.length} planted attack lines; ${availableParallelism()} cores; best of ${RUNS}, warm cache`);
  console.log(`${pad('tool', 22)}${pad('best s', 10)}${pad('MB/s', 10)}runs (s)`);
  console.log(`${pad('exhunt scan', 22)}${pad((bestEx / 1000).toFixed(2), 10)}${pad((mb / (bestEx / 1000)).toFixed(0), 10)}${ex.map((x) => (x.ms / 1000).toFixed(2)).join(' ')}`);
  console.log(`${pad('rg -c -F -i', 22)}${pad((bestRg / 1000).toFixed(2), 10)}${pad((mb / (bestRg / 1000)).toFixed(0), 10)}${rg.map((x) => (x.ms / 1000).toFixed(2)).join(' ')}   (${rg[0].lines} matching lines)`);
  console.log(`ratio    exhunt/rg = ${ratio.toFixed(2)} (target >= ${TARGET_RATIO.toFixed(2)}: ${ratio >= TARGET_RATIO ? 'met' : 'NOT met'})`);
  console.log(`peak RSS exhunt ${peak.toFixed(0)} MB (limit ${RSS_LIMIT_MB} MB: ${peak < RSS_LIMIT_MB ? 'ok' : 'EXCEEDED'})`);
  console.log(`findings ${check.findings} (${check.rules.join(', ')}) on ${check.found} lines; ${manifest.planted.length} planted: ${check.ok ? 'exactly the planted lines' : 'MISMATCH'}`);
  if (!check.ok) console.log(`  missing: ${check.missing.slice(0, 10).join(', ')}\n  extra:   ${check.extra.slice(0, 10).join(', ')}`);
  console.log(`total bench time ${((performance.now() - t0) / 1000).toFixed(0)} s`);
  if (!check.ok || peak >= RSS_LIMIT_MB) process.exit(1);
}

if (process.argv[2] === '--child') await child(process.argv.slice(3));
else await main();
