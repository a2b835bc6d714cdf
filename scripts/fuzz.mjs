#!/usr/bin/env node
// `npm run fuzz`: mutation fuzzing of what exhunt reads from evidence and users, through the real library entry
// points of the build (dist/): EVTX files, W3C/HttpProxy log lines, zip containers, XML config (web.config,
// applicationHost.config), IOC files (CSV, STIX) and Sigma rules.
//
//   npm run fuzz -- [--seconds 120] [--seed N] [--target evtx,logs,zip,xml,ioc,sigma] [--case-ms 10000] [--rss-mb 512]
//
// Inputs run one at a time in a child process; the parent kills it when an input takes longer than --case-ms (a
// hang) or its RSS passes --rss-mb. A crash (an exception that is not the entry point's documented error, an
// internal error a scanner turned into "scan stopped", a hang, the RSS bound, the child dying) writes the input to
// fuzz/crashes/ (gitignored) with a .txt note. Move a fixed one to test/fixtures/fuzz-regressions/<target>/: the
// test test/adversarial/fuzz-regressions.test.ts replays every file there.
import { fork } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, readdirSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { crc32 } from 'node:zlib';
import { mulberry32 } from '../bench/lib.mjs';

const ROOT = resolve(fileURLToPath(import.meta.url), '../..');
const TARGETS = ['evtx', 'logs', 'zip', 'xml', 'ioc', 'sigma'];

function args(argv) {
  const o = { seconds: 120, seed: Date.now() % 2 ** 31, target: TARGETS, caseMs: 10_000, rssMb: 512, out: join(ROOT, 'fuzz', 'crashes'), child: false };
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    const v = () => argv[++i];
    if (a === '--seconds') o.seconds = Number(v());
    else if (a === '--seed') o.seed = Number(v());
    else if (a === '--target') o.target = v().split(',');
    else if (a === '--case-ms') o.caseMs = Number(v());
    else if (a === '--rss-mb') o.rssMb = Number(v());
    else if (a === '--out') o.out = resolve(v());
    else if (a === '--child') o.child = true;
    else throw new Error(`unknown option ${a}`);
  }
  for (const t of o.target) if (!TARGETS.includes(t)) throw new Error(`unknown target ${t} (${TARGETS.join(', ')})`);
  return o;
}

// ---- the child: runs inputs through the library ---------------------------------------------------------------

/** Where each target's input is placed in a host folder, and how it is run. Shared with the regression test. */
export const PLACES = {
  evtx: 'C/Windows/System32/winevt/Logs/Application.evtx',
  logs: null, // the seed's own path (IIS or HttpProxy)
  zip: null, // the zip is the host
  xml: null, // the seed's own path (web.config or applicationHost.config)
  ioc: null,
  sigma: null,
};

/** Runs one input; resolves with problems found (empty: fine). Throws for a crash. */
export async function runInput(dist, target, bytes, rel, work) {
  const { scan } = await import(pathToFileURL(join(dist, 'engine/scan.js')).href);
  const problems = [];
  const hostScan = async (path) => {
    const report = await scan({ paths: [path], jobs: 1, options: { fileSeconds: 0 } });
    for (const h of report.hosts) for (const s of h.skipped) if (/scan stopped:|could not classify:/.test(s.reason)) problems.push(`${s.path}: ${s.reason}`);
  };
  if (target === 'ioc') {
    const { IocFileError } = await import(pathToFileURL(join(dist, 'rules/iocs.js')).href);
    const { loadIocs } = await import(pathToFileURL(join(dist, 'engine/registry.js')).href);
    const p = join(work, rel);
    writeFileSync(p, bytes);
    try {
      loadIocs([p]);
    } catch (err) {
      if (!(err instanceof IocFileError)) throw err;
    }
    return problems;
  }
  if (target === 'sigma') {
    const { sigmaRules } = await import(pathToFileURL(join(dist, 'rules/sigma.js')).href);
    const { buildRuleSet } = await import(pathToFileURL(join(dist, 'rules/ruleset.js')).href);
    const { loadIocs } = await import(pathToFileURL(join(dist, 'engine/registry.js')).href);
    const { rules } = sigmaRules([{ name: rel, text: bytes.toString('utf8') }]);
    buildRuleSet({ iocs: loadIocs([]).iocs, yara: null, ruleFiles: rules });
    return problems;
  }
  const host = join(work, 'host');
  rmSync(host, { recursive: true, force: true });
  if (target === 'zip') {
    mkdirSync(host, { recursive: true });
    const z = join(host, '..', 'host.zip');
    writeFileSync(z, bytes);
    await hostScan(z);
    return problems;
  }
  const p = join(host, ...(PLACES[target] ?? rel).split('/'));
  mkdirSync(resolve(p, '..'), { recursive: true });
  writeFileSync(p, bytes);
  await hostScan(host);
  return problems;
}

async function child() {
  const dist = join(ROOT, 'dist');
  const work = mkdtempSync(join(tmpdir(), 'exhunt-fuzz-'));
  process.on('message', async (m) => {
    const bytes = Buffer.from(m.bytes, 'base64');
    try {
      const problems = await runInput(dist, m.target, bytes, m.rel, work);
      process.send({ ok: true, problems, rss: process.memoryUsage().rss });
    } catch (err) {
      process.send({ ok: false, error: err instanceof Error ? `${err.name}: ${err.message}\n${err.stack}` : String(err), rss: process.memoryUsage().rss });
    }
  });
  process.on('disconnect', () => {
    rmSync(work, { recursive: true, force: true });
    process.exit(0);
  });
}

// ---- seeds --------------------------------------------------------------------------------------------------

function walk(dir, keep, out = []) {
  for (const e of readdirSync(dir, { withFileTypes: true })) {
    const p = join(dir, e.name);
    if (e.isDirectory()) walk(p, keep, out);
    else if (e.isFile() && keep(p)) out.push(p);
  }
  return out;
}

const rel = (p) => p.slice(ROOT.length + 1).split('\\').join('/');

async function seeds(target) {
  const ex = join(ROOT, 'examples/evidence');
  const relIn = (p) => rel(p).replace(/^examples\/evidence\/[^/]+\//, '');
  if (target === 'evtx')
    return walk(join(ROOT, 'test/fixtures/external'), (p) => p.endsWith('.evtx') && statSync(p).size <= 128 * 1024).map((p) => ({ rel: 'x.evtx', bytes: readFileSync(p) }));
  if (target === 'logs')
    return walk(ex, (p) => /\.log$/i.test(p) && statSync(p).size <= 64 * 1024).map((p) => ({ rel: relIn(p), bytes: readFileSync(p) }));
  if (target === 'xml')
    return [
      ...walk(ex, (p) => /\.config$/i.test(p)).map((p) => ({ rel: relIn(p), bytes: readFileSync(p) })),
      ...walk(join(ROOT, 'test/fixtures'), (p) => /web\.config$|applicationHost\.config$/i.test(p)).map((p) => ({
        rel: /applicationHost/i.test(p) ? 'C/Windows/System32/inetsrv/config/applicationHost.config' : 'C/Program Files/Microsoft/Exchange Server/V15/FrontEnd/HttpProxy/owa/web.config',
        bytes: readFileSync(p),
      })),
    ];
  if (target === 'zip') {
    const { default: yazl } = await import(pathToFileURL(join(ROOT, 'node_modules/yazl/index.js')).href);
    const files = walk(join(ex, 'mail01-compromised'), (p) => statSync(p).size <= 16 * 1024).slice(0, 12);
    const zip = new yazl.ZipFile();
    for (const f of files) zip.addBuffer(readFileSync(f), relIn(f), { compress: files.indexOf(f) % 2 === 0 });
    zip.end();
    const parts = [];
    for await (const c of zip.outputStream) parts.push(c);
    return [{ rel: 'host.zip', bytes: Buffer.concat(parts) }];
  }
  if (target === 'ioc')
    return [
      { rel: 'iocs.csv', bytes: Buffer.from('type,value,comment\nip,192.0.2.10,scanner\nsha256,' + 'ab'.repeat(32) + ',shell\nua,python-requests/2.25,tool\nfile,aspnet_client/x.aspx,shell\nurl,http://x/ecp/y.js,ssrf\n') },
      {
        rel: 'bundle.json',
        bytes: Buffer.from(
          JSON.stringify({
            type: 'bundle',
            id: 'bundle--1',
            objects: [
              { type: 'indicator', id: 'indicator--a', pattern_type: 'stix', pattern: "[file:hashes.'SHA-256' = '" + 'cd'.repeat(32) + "']", valid_from: '2021-01-01T00:00:00Z' },
              { type: 'indicator', id: 'indicator--b', pattern: "[ipv4-addr:value = '192.0.2.200'] OR [url:value = 'http://x/aspnet_client/s.aspx']", valid_from: '2022-10-01T00:00:00Z' },
            ],
          }),
        ),
      },
    ];
  if (target === 'sigma') return walk(join(ROOT, 'test/fixtures/sigma/sigmahq'), (p) => p.endsWith('.yml')).map((p) => ({ rel: rel(p), bytes: readFileSync(p) }));
  return [];
}

// ---- mutation -----------------------------------------------------------------------------------------------

const TOKENS = ['\0', '\r', '\n', '\r\n', '"', ',', ' ', '%', '%00', '\\', '/', '#Fields: ', '#Log-type: HttpProxy Logs', '<', '>', '&#x', ']]>', '<!--', '*', '(?', '|', '{', '}', "'", '\u202e', '\ufeff', '..', 'X-BEResource=', 'aspnet_client', '.aspx']
  .map((s) => Buffer.from(s))
  .concat([Buffer.from([0xff, 0xfe]), Buffer.from([0xc0, 0xaf]), Buffer.from([0xff, 0xff, 0xff, 0x7f]), Buffer.from([0, 0, 0, 0x80])]);

function mutate(seed, others, rnd) {
  let b = Buffer.from(seed);
  const int = (n) => Math.floor(rnd() * n);
  const rounds = 1 + int(8);
  for (let r = 0; r < rounds; r++) {
    const at = int(b.length + 1);
    switch (int(9)) {
      case 0: // bit flips
        for (let k = 0; k < 1 + int(8) && b.length; k++) b[int(b.length)] ^= 1 << int(8);
        break;
      case 1: // interesting bytes in place (lengths, offsets)
        if (b.length) b[int(b.length)] = [0, 0xff, 0x7f, 0x80, 1, 0x0d, 0x0a][int(7)];
        break;
      case 2: // a token inserted
        b = Buffer.concat([b.subarray(0, at), TOKENS[int(TOKENS.length)], b.subarray(at)]);
        break;
      case 3: // a range deleted
        b = Buffer.concat([b.subarray(0, at), b.subarray(Math.min(b.length, at + 1 + int(256)))]);
        break;
      case 4: { // a range repeated (long lines, nesting)
        const len = 1 + int(64);
        const rep = b.subarray(at, at + len);
        b = Buffer.concat([b.subarray(0, at), ...Array(1 + int(rnd() < 0.1 ? 4000 : 40)).fill(rep), b.subarray(at)]);
        break;
      }
      case 5: // truncated
        b = b.subarray(0, at);
        break;
      case 6: { // spliced with another seed
        const o = others[int(others.length)];
        const from = int(o.length);
        b = Buffer.concat([b.subarray(0, at), o.subarray(from, from + int(4096)), b.subarray(at)]);
        break;
      }
      case 7: // a 32-bit field set to an edge value
        if (b.length >= 4) b.writeUInt32LE([0, 0xffffffff, 0x7fffffff, 0x10000, b.length, 1][int(6)], int(b.length - 3));
        break;
      default: // random bytes
        b = Buffer.concat([b.subarray(0, at), Buffer.from(Array.from({ length: 1 + int(32) }, () => int(256))), b.subarray(at)]);
    }
    if (b.length > 4 * 1024 * 1024) b = b.subarray(0, 4 * 1024 * 1024);
  }
  return b;
}

/** EVTX checks CRCs: half of the mutants get theirs fixed so the parser goes past them. */
function fixEvtxCrcs(b) {
  if (b.length < 4096 || b.toString('latin1', 0, 7) !== 'ElfFile') return b;
  b.writeUInt32LE(crc32(b.subarray(0, 120)), 124);
  for (let c = 4096; c + 512 <= b.length; c += 65536) {
    if (b.toString('latin1', c, c + 8) !== 'ElfChnk\0') continue;
    const free = b.readUInt32LE(c + 48);
    if (free >= 512 && c + free <= b.length) b.writeUInt32LE(crc32(b.subarray(c + 512, c + free)), c + 52);
    b.writeUInt32LE(crc32(Buffer.concat([b.subarray(c, c + 120), b.subarray(c + 128, c + 512)])), c + 124);
  }
  return b;
}

// ---- the parent ---------------------------------------------------------------------------------------------

class Runner {
  constructor(o) {
    this.o = o;
    this.proc = null;
  }
  start() {
    this.proc = fork(fileURLToPath(import.meta.url), ['--child'], { stdio: ['ignore', 'ignore', 'pipe', 'ipc'], execArgv: ['--max-old-space-size=2048'] });
    this.proc.stderr.resume();
  }
  run(target, rel, bytes) {
    if (!this.proc) this.start();
    const p = this.proc;
    return new Promise((res) => {
      let done = false;
      const finish = (r) => {
        if (done) return;
        done = true;
        clearTimeout(timer);
        clearInterval(watch);
        p.off('message', onMsg);
        p.off('exit', onExit);
        res(r);
      };
      const kill = (why) => {
        p.kill('SIGKILL');
        this.proc = null;
        finish({ crash: why });
      };
      const onMsg = (m) => {
        if (!m.ok) finish({ crash: `uncaught: ${m.error}` });
        else if (m.rss > this.o.rssMb * 1024 * 1024) kill(`RSS ${Math.round(m.rss / 1048576)} MB over the ${this.o.rssMb} MB bound`);
        else if (m.problems.length) finish({ crash: `internal error caught by the scan:\n${m.problems.join('\n')}` });
        else finish({});
      };
      const onExit = (code, sig) => {
        this.proc = null;
        finish({ crash: `child died: exit ${code} ${sig ?? ''}` });
      };
      const timer = setTimeout(() => kill(`hang: no answer within ${this.o.caseMs} ms`), this.o.caseMs);
      // RSS while running, from /proc (Linux): a blow-up is caught before the machine swaps.
      const watch = setInterval(() => {
        try {
          const kb = Number(/VmRSS:\s+(\d+)/.exec(readFileSync(`/proc/${p.pid}/status`, 'utf8'))?.[1] ?? 0);
          if (kb * 1024 > this.o.rssMb * 1024 * 1024) kill(`RSS ${Math.round(kb / 1024)} MB over the ${this.o.rssMb} MB bound while running`);
        } catch {
          // not Linux, or the child just ended
        }
      }, 100);
      p.on('message', onMsg);
      p.on('exit', onExit);
      p.send({ target, rel, bytes: bytes.toString('base64') });
    });
  }
  stop() {
    this.proc?.disconnect();
  }
}

async function main() {
  const o = args(process.argv.slice(2));
  if (o.child) return child();
  const rnd = mulberry32(o.seed);
  const pools = {};
  for (const t of o.target) pools[t] = await seeds(t);
  const targets = o.target.filter((t) => pools[t].length);
  console.log(`fuzz: seed ${o.seed}, ${o.seconds} s, targets ${targets.map((t) => `${t} (${pools[t].length} seeds)`).join(', ')}`);
  const runner = new Runner(o);
  const end = Date.now() + o.seconds * 1000;
  const counts = Object.fromEntries(targets.map((t) => [t, { runs: 0, crashes: 0 }]));
  let n = 0;
  while (Date.now() < end) {
    const target = targets[n++ % targets.length];
    const pool = pools[target];
    const seed = pool[Math.floor(rnd() * pool.length)];
    let bytes = mutate(seed.bytes, pool.map((s) => s.bytes), rnd);
    if (target === 'evtx' && rnd() < 0.5) bytes = fixEvtxCrcs(Buffer.from(bytes));
    const r = await runner.run(target, seed.rel, bytes);
    counts[target].runs++;
    if (r.crash) {
      counts[target].crashes++;
      mkdirSync(join(o.out, target), { recursive: true });
      const name = `${target}-${o.seed}-${n}`;
      writeFileSync(join(o.out, target, `${name}.bin`), bytes);
      writeFileSync(join(o.out, target, `${name}.txt`), `target: ${target}\nplaced as: ${seed.rel}\nseed: ${o.seed}, input ${n}\n${r.crash}\n`);
      console.log(`CRASH ${target} ${name}: ${r.crash.split('\n')[0]}`);
    }
  }
  runner.stop();
  console.log(`fuzz: ${Object.entries(counts).map(([t, c]) => `${t} ${c.runs} inputs, ${c.crashes} crashes`).join('; ')}`);
  process.exitCode = Object.values(counts).some((c) => c.crashes) ? 1 : 0;
}

if (process.argv[1] && resolve(process.argv[1]) === fileURLToPath(import.meta.url)) await main();
