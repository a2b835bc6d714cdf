// Plumbing shared by the bench/*.bench.mjs files: seeded randomness, a corpus cached behind a manifest, a warm page
// cache, timed and interleaved best-of-N runs of `exhunt scan` against a reference tool, the peak RSS of that child,
// and the result table; also the seeded generator and the HttpProxy layout that scripts/make-examples.mjs shares.
// Not a bench itself (bench/run.mjs runs only *.bench.mjs).
//
// Run directly (`node bench/lib.mjs ARGS…`), it is the stand-in for /usr/bin/time where that is missing: it runs the
// exhunt CLI with ARGS in this process and prints its own peak RSS (worker threads included) to stderr on exit.
import { spawnSync } from 'node:child_process';
import { closeSync, existsSync, mkdirSync, openSync, readdirSync, readFileSync, readSync, rmSync, statSync, writeFileSync, writeSync } from 'node:fs';
import { availableParallelism, tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';

const SELF = fileURLToPath(import.meta.url);
export const REPO = dirname(dirname(SELF));
const DIST = join(REPO, 'dist');
const CLI = join(DIST, 'cli', 'main.js');
export const CORES = availableParallelism();

/** Exits with a hint when the build is missing: every bench runs the compiled CLI or modules. */
export function requireDist() {
  if (existsSync(CLI)) return;
  console.error('dist/ is missing: run `npm run build` first (npm run bench does).');
  process.exit(1);
}

/** A corpus size in GB from the environment variable `name` (default `fallback`). */
export function envGb(name, fallback) {
  const gb = Number(process.env[name] ?? String(fallback));
  if (!(gb > 0)) throw new Error(`${name} must be a positive number, got ${process.env[name]}`);
  return gb;
}

/** A module of dist/, e.g. importDist('engine', 'registry.js'). */
export const importDist = (...parts) => import(pathToFileURL(join(DIST, ...parts)).href);

// ---------------------------------------------------------------------------------------------------------------
// Seeded randomness: a corpus must be the same bytes on every machine, so that its manifest can be trusted.
// scripts/make-examples.mjs draws from mulberry32 too: changing it changes the committed examples.

/** mulberry32: a uniform number in [0, 1) per call. */
export function mulberry32(seed) {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** Helpers over mulberry32; each draws from the same stream, so call order is part of the corpus. */
export function rng(seed) {
  const next = mulberry32(seed);
  const int = (lo, hi) => lo + Math.floor(next() * (hi - lo + 1));
  const hex = (n) => Array.from({ length: n }, () => '0123456789abcdef'[int(0, 15)]).join('');
  return {
    int,
    hex,
    pick: (l) => l[Math.floor(next() * l.length)],
    guid: () => `${hex(8)}-${hex(4)}-4${hex(3)}-${'89ab'[int(0, 3)]}${hex(3)}-${hex(12)}`,
    alnum: (n) => Array.from({ length: n }, () => 'abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789'[int(0, 61)]).join(''),
  };
}

// ---------------------------------------------------------------------------------------------------------------
// Exchange HttpProxy layout, shared with scripts/make-examples.mjs (artefacts.help samples: 74 columns)

export const HP_FIELDS =
  'DateTime,RequestId,MajorVersion,MinorVersion,BuildVersion,RevisionVersion,ClientRequestId,Protocol,UrlHost,UrlStem,ProtocolAction,AuthenticationType,IsAuthenticated,AuthenticatedUser,Organization,AnchorMailbox,UserAgent,ClientIpAddress,ServerHostName,HttpStatus,BackEndStatus,ErrorCode,Method,ProxyAction,TargetServer,TargetServerVersion,RoutingType,RoutingHint,BackEndCookie,ServerLocatorHost,ServerLocatorLatency,RequestBytes,ResponseBytes,TargetOutstandingRequests,AuthModulePerfContext,HttpPipelineLatency,CalculateTargetBackEndLatency,GlsLatencyBreakup,TotalGlsLatency,AccountForestLatencyBreakup,TotalAccountForestLatency,ResourceForestLatencyBreakup,TotalResourceForestLatency,ADLatency,SharedCacheLatencyBreakup,TotalSharedCacheLatency,ActivityContextLifeTime,ModuleToHandlerSwitchingLatency,ClientReqStreamLatency,BackendReqInitLatency,BackendReqStreamLatency,BackendProcessingLatency,BackendRespInitLatency,BackendRespStreamLatency,ClientRespStreamLatency,KerberosAuthHeaderLatency,HandlerCompletionLatency,RequestHandlerLatency,HandlerToModuleSwitchingLatency,ProxyTime,CoreLatency,RoutingLatency,HttpProxyOverhead,TotalRequestTime,RouteRefresherLatency,UrlQuery,BackEndGenericInfo,GenericInfo,GenericErrors,EdgeTraceId,DatabaseGuid,UserADObjectGuid,PartitionEndpointLookupLatency,RoutingStatus';;

/** The latency columns that read 0 on an ordinary proxied request; each generator sets the others itself. */
export const hpIdleLatencies = () =>
  Object.fromEntries(
    [
      'HttpPipelineLatency',
      'TotalGlsLatency',
      'TotalAccountForestLatency',
      'TotalResourceForestLatency',
      'TotalSharedCacheLatency',
      'ModuleToHandlerSwitchingLatency',
      'BackendReqStreamLatency',
      'BackendRespInitLatency',
      'BackendRespStreamLatency',
      'ClientRespStreamLatency',
      'KerberosAuthHeaderLatency',
      'HandlerCompletionLatency',
      'HandlerToModuleSwitchingLatency',
    ].map((c) => [c, '0']),
  );

// ---------------------------------------------------------------------------------------------------------------
// Corpus

/**
 * The corpus in `dir`: reused when the manifest next to it was written for the same `params` and its files are
 * intact, else `build()` fills the emptied `dir` and returns the manifest body ({ bytes, files, planted, … }; `files`
 * is a list of { rel, size } or, for a tree too large to list, a count). `planted` names what is planted (for the log).
 * The manifest sits next to the corpus, not in it: a manifest.json inside an evidence folder is read as a collector
 * case manifest.
 */
export function cachedCorpus(dir, params, build, planted = 'planted attack lines') {
  const manifestPath = `${dir}.manifest.json`;
  if (existsSync(manifestPath)) {
    try {
      const m = JSON.parse(readFileSync(manifestPath, 'utf8'));
      const intact = Array.isArray(m.files) ? m.files.every((f) => existsSync(join(dir, f.rel)) && statSync(join(dir, f.rel)).size === f.size) : existsSync(dir);
      if (JSON.stringify(m.params) === JSON.stringify(params) && intact) {
        console.log(`corpus: reusing ${dir} (${(m.bytes / 1e9).toFixed(2)} GB)`);
        return m;
      }
    } catch {
      // unreadable manifest: regenerate
    }
  }
  const t0 = performance.now();
  rmSync(dir, { recursive: true, force: true });
  mkdirSync(dir, { recursive: true });
  const manifest = { params, ...build() };
  writeFileSync(manifestPath, JSON.stringify(manifest, null, 1));
  console.log(`corpus: wrote ${fileCount(manifest)} files, ${(manifest.bytes / 1e9).toFixed(2)} GB, ${manifest.planted.length} ${planted} in ${((performance.now() - t0) / 1000).toFixed(1)} s`);
  return manifest;
}

const fileCount = (manifest) => (Array.isArray(manifest.files) ? manifest.files.length : manifest.files);

/** Collects a corpus' { rel, size } list and its planted `rel:line` places as its files are written under `dir`. */
export function corpusFiles(dir) {
  const files = [];
  const planted = [];
  return {
    add(rel, plantedLines) {
      files.push({ rel, size: statSync(join(dir, rel)).size });
      for (const l of plantedLines) planted.push(`${rel}:${l}`);
    },
    manifest: () => ({ bytes: files.reduce((s, f) => s + f.size, 0), files, planted: planted.sort() }),
  };
}

/** Where the next planted row goes: one per `every` bytes of the whole corpus, the first a random way in. */
export const plantState = (r, every) => ({ offset: 0, next: r.int(Math.floor(every / 4), every), count: 0 });

/**
 * Writes one log file of about `target` bytes: `head`, then lines drawn from `pool` (CRLF added) with planted rows
 * from `plants` ({ rows, every, state } — state shared across files) at their byte offsets. Every line starts with a
 * placeholder timestamp that is overwritten with `stamp(ms)`, the times spread evenly over `spanMs` from `startMs`.
 * Returns the 1-based line numbers of the planted rows.
 */
export function writeLogFile(abs, head, pool, target, plants, { startMs, spanMs, stamp }, r) {
  mkdirSync(dirname(abs), { recursive: true });
  const fd = openSync(abs, 'w');
  const BUF = 8 * 1024 * 1024;
  const buf = Buffer.allocUnsafe(BUF);
  let used = buf.write(head, 0, 'latin1');
  let written = 0;
  let line = head.split('\r\n').length - 1;
  const planted = [];
  const poolBufs = pool.map((s) => Buffer.from(s + '\r\n', 'latin1'));
  const plantBufs = plants.rows.map((s) => Buffer.from(s + '\r\n', 'latin1'));
  const avg = poolBufs.reduce((s, b) => s + b.length, 0) / poolBufs.length;
  const step = spanMs / Math.max(1, Math.round(target / avg));
  for (let k = 0; written + used < target; k++) {
    let src;
    if (plants.state.offset + written + used >= plants.state.next) {
      src = plantBufs[plants.state.count++ % plantBufs.length];
      planted.push(line + 1);
      plants.state.next += plants.every;
    } else src = poolBufs[r.int(0, poolBufs.length - 1)];
    // Flush whole lines only, so the timestamp below lands in the buffer.
    if (used + src.length > BUF) {
      writeSync(fd, buf, 0, used);
      written += used;
      used = 0;
    }
    src.copy(buf, used);
    buf.write(stamp(startMs + Math.floor(k * step)), used, 'latin1');
    used += src.length;
    line++;
  }
  writeSync(fd, buf, 0, used);
  closeSync(fd);
  plants.state.offset += written + used;
  return planted;
}

/** Every file below `dir` (absolute paths). */
export function filesUnder(dir) {
  return readdirSync(dir, { withFileTypes: true }).flatMap((e) => (e.isDirectory() ? filesUnder(join(dir, e.name)) : [join(dir, e.name)]));
}

/** Reads every file under `dir`, so that both tools start on a warm page cache. */
export function warm(dir) {
  const buf = Buffer.allocUnsafe(16 * 1024 * 1024);
  for (const abs of filesUnder(dir)) {
    const fd = openSync(abs, 'r');
    while (readSync(fd, buf, 0, buf.length, null) > 0);
    closeSync(fd);
  }
}

// ---------------------------------------------------------------------------------------------------------------
// Runs

/** Runs a command to completion: { ms, r } with r from spawnSync (stdout and stderr as text). */
export function time(cmd, args, opts = {}) {
  const t0 = performance.now();
  const r = spawnSync(cmd, args, { encoding: 'utf8', maxBuffer: 256 * 1024 * 1024, ...opts });
  return { ms: performance.now() - t0, r };
}

/** `exhunt scan CORPUS --json JSON` on `jobs` workers (every core): { ms, rssMb } (peak RSS, worker threads included). */
export function timeScan(corpus, json, jobs = CORES) {
  const args = ['scan', corpus, '--json', json, '-q', '--jobs', String(jobs)];
  const { ms, r } = existsSync('/usr/bin/time') ? time('/usr/bin/time', ['-f', 'maxrss_kb=%M', process.execPath, CLI, ...args]) : time(process.execPath, [SELF, ...args]);
  // 0, 1, 3 and 4 are verdicts (README "Exit codes"); 2 is a usage or input error.
  if (![0, 1, 3, 4].includes(r.status)) throw new Error(`exhunt scan failed (${r.status}): ${r.stderr}`);
  const m = /maxrss_kb=(\d+)/.exec(r.stderr);
  if (!m) throw new Error(`no peak RSS reported: ${r.stderr}`);
  return { ms, rssMb: Number(m[1]) / 1024 };
}

/**
 * `rg -c -F` over `corpus` with every needle, in one pass (-i when `insensitive`): { ms, lines } (matching lines).
 * One pass over the bytes, the way an analyst would grep; two (exact, then -i) would read everything twice.
 */
export function timeRg(corpus, needles, insensitive) {
  const args = ['-c', '-F', '--no-ignore', '--hidden', ...(insensitive ? ['-i'] : []), ...needles.flatMap((x) => ['-e', x]), corpus];
  const { ms, r } = time('rg', args);
  if (r.error) throw new Error(`rg could not run (${r.error.message}): install ripgrep (scripts/setup-test-deps.sh)`);
  if (r.status !== 0 && r.status !== 1) throw new Error(`rg failed (${r.status}): ${r.stderr}`);
  const lines = r.stdout.split('\n').filter(Boolean).reduce((s, l) => s + Number(l.slice(l.lastIndexOf(':') + 1)), 0);
  return { ms, lines };
}

/**
 * `runs` rounds of `exhunt scan` over `corpus`, each followed by `reference()` (interleaved, so both tools see the
 * same machine state): { ex, ref, report } with the JSON report of the first scan.
 */
export function compareRuns(runs, corpus, reference) {
  const json = join(tmpdir(), `exhunt-bench-${process.pid}.json`);
  const ex = [];
  const ref = [];
  let report = null;
  try {
    for (let i = 0; i < runs; i++) {
      ex.push(timeScan(corpus, json));
      report ??= JSON.parse(readFileSync(json, 'utf8'));
      ref.push(reference());
    }
  } finally {
    rmSync(json, { force: true });
  }
  return { ex, ref, report };
}

/**
 * Compares what a scan report found with what was planted. `key` names a finding's place (path:line by default;
 * the path alone for files). Exposure findings (a vulnerable build read from a header or a path) describe the host,
 * not a place, and are counted apart; several rules may report one place, so places are compared as a set.
 */
export function checkFindings(report, planted, key = (f) => `${f.source.path}:${f.source.line}`) {
  const all = report.hosts.flatMap((h) => h.findings);
  const hits = all.filter((f) => f.kind !== 'exposure');
  const found = [...new Set(hits.map(key))].sort();
  const missing = planted.filter((x) => !found.includes(x));
  const extra = found.filter((x) => !planted.includes(x));
  return {
    ok: missing.length === 0 && extra.length === 0,
    found: found.length,
    findings: hits.length,
    rules: [...new Set(hits.map((f) => f.rule))].sort(),
    exposure: all.length - hits.length,
    missing,
    extra,
    skipped: report.hosts.flatMap((h) => h.skipped ?? []),
    scanned: report.hosts.reduce((s, h) => s + (h.stats?.files_scanned ?? 0), 0),
  };
}

// ---------------------------------------------------------------------------------------------------------------
// Output

const pad = (s, w) => String(s).padEnd(w);
const secs = (ms) => (ms / 1000).toFixed(2);
const best = (runs) => Math.min(...runs.map((x) => x.ms));

/**
 * Prints the result table: the corpus, one row per tool (best time, MB/s, every run), the throughput ratio (against
 * `target` when given), exhunt's peak RSS (against `rssLimitMb` when given). Returns { ratio, peak }.
 */
export function printResults({ manifest, planted = 'planted attack lines', runs, width, ours, ref, target, rssLimitMb }) {
  const mb = manifest.bytes / 1e6;
  const row = (name, xs, note = '') => console.log(`${pad(name, width)}${pad(secs(best(xs)), 10)}${pad((mb / (best(xs) / 1000)).toFixed(0), 10)}${xs.map((x) => secs(x.ms)).join(' ')}${note}`);
  const ratio = best(ref.runs) / best(ours.runs);
  const peak = Math.max(...ours.runs.map((x) => x.rssMb));
  console.log('');
  console.log(`corpus   ${(manifest.bytes / 1e9).toFixed(2)} GB in ${fileCount(manifest)} files, ${manifest.planted.length} ${planted}; ${CORES} cores; best of ${runs}, warm cache`);
  console.log(`${pad('tool', width)}${pad('best s', 10)}${pad('MB/s', 10)}runs (s)`);
  row(ours.name, ours.runs);
  row(ref.name, ref.runs, ref.note);
  const ratioNote = target === undefined ? '' : ` (target >= ${target.toFixed(2)}: ${ratio >= target ? 'met' : 'NOT met'})`;
  const rssNote = rssLimitMb === undefined ? '' : ` (limit ${rssLimitMb} MB: ${peak < rssLimitMb ? 'ok' : 'EXCEEDED'})`;
  console.log(`ratio    exhunt/${ref.name.split(' ')[0]} = ${ratio.toFixed(2)}${ratioNote}`);
  console.log(`peak RSS exhunt ${peak.toFixed(0)} MB${rssNote}`);
  return { ratio, peak };
}

/** Prints the first places of a mismatch between what was found and what was planted. */
export function printMismatch(check) {
  const few = (xs) => `${xs.slice(0, 10).join(', ')}${xs.length > 10 ? ' …' : ''}`;
  console.log(`  missing: ${few(check.missing)}`);
  console.log(`  extra:   ${few(check.extra)}`);
}

// ---------------------------------------------------------------------------------------------------------------
// Log benches (issues 2 and 4): `exhunt scan` against one `rg -c -F` pass over log files with planted attack lines.

/** Best of 3 each; the peak RSS limit fails the bench, the throughput target (issue 16: half of rg's) is only reported. */
export const LOG_BENCH = { runs: 3, rssLimitMb: 256, targetRatio: 0.5, plantEvery: 50e6 };

/** The share of `lines` that contain one of `needles` (lower-case; compared case-insensitively, as rg -i does). */
export function needleShare(lines, needles) {
  return lines.filter((l) => {
    const low = l.toLowerCase();
    return needles.some((n) => low.includes(n.toLowerCase()));
  }).length / lines.length;
}

/** The record rules that read any of `formats`, needles as the scan resolves them (dist/rules/ruleset.js). */
export async function recordRules(formats) {
  const { defaultRuleSet } = await importDist('rules', 'ruleset.js');
  return defaultRuleSet().recordRules.filter((rule) => rule.formats.some((f) => formats.includes(f)));
}

/**
 * Runs a log bench once its corpus is built (`t0`: when the bench started): warm cache, interleaved runs, the table,
 * then whether exhunt reported exactly the planted lines (with the count of exposure findings when `exposureFrom`
 * names where they come from). On a mismatch or when the peak RSS reaches the limit: exits 1, or returns false with
 * `exitOnFailure: false` (a bench with several cases). Returns true otherwise.
 */
export function runLogBench({ t0, corpus, manifest, needles, insensitive, exposureFrom, exitOnFailure = true }) {
  warm(corpus);
  const { ex, ref, report } = compareRuns(LOG_BENCH.runs, corpus, () => timeRg(corpus, needles, insensitive));
  const check = checkFindings(report, manifest.planted);
  const { peak } = printResults({
    manifest,
    runs: LOG_BENCH.runs,
    width: 22,
    ours: { name: 'exhunt scan', runs: ex },
    ref: { name: `rg -c -F${insensitive ? ' -i' : ''}`, runs: ref, note: `   (${ref[0].lines} matching lines)` },
    target: LOG_BENCH.targetRatio,
    rssLimitMb: LOG_BENCH.rssLimitMb,
  });
  const exposure = exposureFrom ? ` (+${check.exposure} exposure finding(s) from ${exposureFrom})` : '';
  console.log(`findings ${check.findings} (${check.rules.join(', ')}) on ${check.found} lines; ${manifest.planted.length} planted: ${check.ok ? 'exactly the planted lines' : 'MISMATCH'}${exposure}`);
  if (!check.ok) printMismatch(check);
  if (check.skipped.length) console.log(`  skipped: ${JSON.stringify(check.skipped.slice(0, 3))}`);
  console.log(`total bench time ${((performance.now() - t0) / 1000).toFixed(0)} s`);
  const ok = check.ok && peak < LOG_BENCH.rssLimitMb;
  if (!ok && exitOnFailure) process.exit(1);
  return ok;
}

// ---------------------------------------------------------------------------------------------------------------
// Stand-in for /usr/bin/time (see the top of the file).

if (process.argv[1] === SELF) {
  process.argv = [process.argv[0], CLI, ...process.argv.slice(2)];
  process.on('exit', () => process.stderr.write(`maxrss_kb=${process.resourceUsage().maxRSS}\n`));
  await import(pathToFileURL(CLI).href);
}
