// IIS W3C speed and memory check (issues 4 and 16): `exhunt scan` against `rg -c -F -i` over the same corpus, same
// run, warm page cache — the same method as bench/httpproxy.bench.mjs. Two cases, each ~EXHUNT_BENCH_GB GB (default 1):
//
//   npm run bench iis                 (builds, then runs this file)
//   EXHUNT_BENCH_GB=0.5 node bench/iis.bench.mjs
//
// 1. realistic (bench/.corpus/iis-realistic/): the busy-server request mix of bench/traffic.mjs (mix and sources are
//    stated there and printed here, with the share of lines that hold a rule needle): dense, many benign candidates.
// 2. sparse (bench/.corpus/iis/, the issue-4 corpus): ActiveSync/EWS/MAPI-heavy lines, fewer candidates.
// Both: daily u_exYYMMDD.log files under W3SVC1 (front end, 80% of the bytes) and W3SVC2 (back end, port 444); one
// real attack line (HelseCERT web-shell access, hamad-she ProxyShell shape, OWASSRF, a cmd=whoami shell call, a
// Volexity POST) planted per ~50 MB. Reused when its manifest matches (gitignored).
//
// ripgrep gets the union of the needles of every record rule that reads `iis` (from dist/engine/registry.js),
// once with -i (exhunt matches them case-insensitively). Both use every core. Best of 3 each.
// Fails (exit 1) when exhunt does not report exactly the planted lines or its peak RSS reaches 256 MB; prints the
// ratio against the issue-16 target (exhunt >= 0.5 of rg) without failing on it.
import { join } from 'node:path';
import { cachedCorpus, corpusFiles, envGb, LOG_BENCH, needleShare, plantState, recordRules, REPO, requireDist, rng, runLogBench, writeLogFile } from './lib.mjs';
import { IIS_MIX, iisAttacks, iisPools } from './traffic.mjs';

const CORPUS = join(REPO, 'bench', '.corpus', 'iis');
const REAL = join(REPO, 'bench', '.corpus', 'iis-realistic');
const GB = envGb('EXHUNT_BENCH_GB', 1);
const PLANT_EVERY = LOG_BENCH.plantEvery;
const CORPUS_VERSION = 1;
const SEED = 20210305;
const DAYS = 6;

requireDist();

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

/** The realistic corpus: the same day files and sites, lines from bench/traffic.mjs. */
function buildRealistic() {
  const r = rng(SEED + 1);
  const pools = iisPools(r, 4096);
  const params = { version: 1, gb: GB, seed: SEED + 1, plantEvery: PLANT_EVERY, days: DAYS };
  const manifest = cachedCorpus(REAL, params, () => writeDays(REAL, r, pools.front, pools.back, iisAttacks(r)));
  return { manifest, pool: pools.front };
}

/** Daily u_exYYMMDD.log files under W3SVC1 (front end, 80% of the bytes, planted attacks) and W3SVC2 (back end). */
function writeDays(dir, r, fe, be, rows) {
  const state = plantState(r, PLANT_EVERY);
  const out = corpusFiles(dir);
  for (let d = 0; d < DAYS; d++) {
    const dayMs = Date.parse('2021-03-03T00:00:00Z') + d * 86_400_000;
    const date = new Date(dayMs).toISOString().slice(0, 10);
    const name = `u_ex${date.slice(2).replace(/-/g, '')}.log`;
    const times = { startMs: dayMs, spanMs: 86_400_000, stamp: (ms) => new Date(ms).toISOString().slice(0, 19).replace('T', ' ') };
    for (const [site, pool, share] of [['W3SVC1', fe, 0.8], ['W3SVC2', be, 0.2]]) {
      const rel = `inetpub/logs/LogFiles/${site}/${name}`;
      // Attacks land on the front end only (the back-end pool has its own machine-account lines).
      const plants = site === 'W3SVC1' ? { rows, every: PLANT_EVERY / 0.8, state } : { rows: [], every: Infinity, state: { offset: 0, next: Infinity, count: 0 } };
      out.add(rel, writeLogFile(join(dir, rel), HEAD(date), pool, (GB * 1e9 * share) / DAYS, plants, times, r));
    }
  }
  return out.manifest();
}

function buildCorpus() {
  const params = { version: CORPUS_VERSION, gb: GB, seed: SEED, plantEvery: PLANT_EVERY, days: DAYS };
  return cachedCorpus(CORPUS, params, () => {
    const r = rng(SEED);
    const fe = frontEnd(r, 2048);
    const be = backEnd(r, 512);
    return writeDays(CORPUS, r, fe, be, attacks(r));
  });
}

const t0 = performance.now();
const rules = await recordRules(['iis']);
// Lower-cased: exhunt matches IIS needles in any case, and rg runs with -i.
const needles = [...new Set(rules.flatMap((rule) => rule.needles.map((x) => x.toLowerCase())))];
console.log(`needles (${rules.length} rules on iis, rg -i): ${needles.join(' | ')}`);

// Case 1, realistic: the busy-server mix of bench/traffic.mjs.
const real = buildRealistic();
console.log(`\n--- realistic traffic (bench/traffic.mjs): front end ${IIS_MIX.front}; back end (20% of bytes) ${IIS_MIX.back}`);
console.log(`lines with a rule needle: ${(100 * needleShare(real.pool, needles)).toFixed(1)}% of the front-end pool`);
const ok1 = runLogBench({ t0, corpus: REAL, manifest: real.manifest, needles, insensitive: true, exitOnFailure: false });

// Case 2, sparse: the issue-4 corpus, where few benign lines hold a needle.
console.log('\n--- sparse traffic (issue-4 corpus)');
const manifest = buildCorpus();
const ok2 = runLogBench({ t0, corpus: CORPUS, manifest, needles, insensitive: true, exitOnFailure: false });
if (!ok1 || !ok2) process.exit(1);
