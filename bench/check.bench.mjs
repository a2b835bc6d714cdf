// Benchmark of `exhunt check`: checks/s and peak RSS over >= 1,000 loopback HTTPS targets (one listener per port,
// in a child process so the servers do not share the checker's event loop), compared in the same run with curl driven
// by xargs -P over the same targets. Run `npm run build` first (npm run bench does).
// Usage: node bench/check.bench.mjs [targets=1000] [concurrency=64] [rounds=2]
import { execFileSync, spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import https from 'node:https';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { importDist, requireDist } from './lib.mjs';

const COOKIE = 'X-AnonResource=true; X-AnonResource-Backend=localhost/ecp/default.flt?~3; X-BEResource=localhost/owa/auth/logon.aspx?~3;';

if (process.argv[2] === '--serve') await serve(Number(process.argv[3]), process.argv[4]);
else await main();

/** Child: N mock Exchange listeners on 127.0.0.1 (80% patched, 10% vulnerable, 10% EOMT-mitigated). */
async function serve(n, certDir) {
  const key = readFileSync(join(certDir, 'key.pem'));
  const cert = readFileSync(join(certDir, 'cert.pem'));
  const servers = [];
  for (let i = 0; i < n; i++) {
    const kind = i % 10 === 0 ? 'vulnerable' : i % 10 === 5 ? 'mitigated' : 'patched';
    const s = https.createServer({ key, cert }, (req, res) => {
      const h = { 'X-FEServer': `EX${i}`, 'Content-Type': 'text/html' };
      if (req.url === '/owa/auth/x.js') {
        if (kind === 'mitigated') return req.socket.destroy();
        return res.writeHead(500, { ...h, 'X-CalculatedBETarget': kind === 'vulnerable' ? 'localhost' : 'ex01.contoso.local' }).end();
      }
      if (req.url.startsWith('/owa/auth/logon.aspx')) return res.writeHead(200, { ...h, 'X-OWA-Version': '15.1.2176.2' }).end('<link href="/owa/auth/15.1.2176/themes/x.css">');
      if (req.url.startsWith('/ecp/Current/exporttool/')) return res.writeHead(200, h).end('<assemblyIdentity name="x" version="15.1.2176.2" />');
      res.writeHead(404, h).end();
    });
    s.on('tlsClientError', () => undefined);
    await new Promise((r) => s.listen(0, '127.0.0.1', r));
    servers.push(s);
  }
  process.stdout.write(`${JSON.stringify(servers.map((s) => s.address().port))}\n`);
  // Exit (closing every listener) when the parent closes our stdin.
  process.stdin.resume();
  process.stdin.on('end', () => process.exit(0));
}

async function main() {
  const n = Number(process.argv[2] ?? 1000);
  const concurrency = Number(process.argv[3] ?? 64);
  const rounds = Number(process.argv[4] ?? 2);
  requireDist();
  const { checkAll } = await importDist('remote', 'index.js');
  const certDir = mkdtempSync(join(tmpdir(), 'exhunt-bench-cert-'));
  execFileSync('openssl', ['req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes', '-keyout', join(certDir, 'key.pem'), '-out', join(certDir, 'cert.pem'), '-days', '1', '-subj', '/CN=localhost'], { stdio: 'ignore' });
  const child = spawn(process.execPath, [fileURLToPath(import.meta.url), '--serve', String(n), certDir], { stdio: ['pipe', 'pipe', 'inherit'] });
  try {
    const ports = JSON.parse(await firstLine(child.stdout));
    const urls = ports.map((p) => `https://127.0.0.1:${p}`);
    console.log(`targets: ${urls.length} loopback HTTPS listeners (child pid ${child.pid}), concurrency ${concurrency}, ${rounds} round(s)`);

    // Warm-up (JIT, TLS contexts), not measured.
    await checkAll(urls.slice(0, 50), { concurrency, rate: 0, timeoutMs: 5000, retries: 0 }, () => undefined);

    let peakRss = process.memoryUsage().rss;
    const sampler = setInterval(() => (peakRss = Math.max(peakRss, process.memoryUsage().rss)), 20);
    const rssAfterRound = [];
    const states = {};
    const t0 = performance.now();
    const cpu0 = process.cpuUsage();
    for (let r = 0; r < rounds; r++) {
      await checkAll(urls, { concurrency, rate: 0, timeoutMs: 5000, retries: 0 }, (res) => {
        states[res.state] = (states[res.state] ?? 0) + 1;
      });
      rssAfterRound.push(process.memoryUsage().rss);
    }
    const secs = (performance.now() - t0) / 1000;
    const cpu = process.cpuUsage(cpu0);
    clearInterval(sampler);
    const checks = urls.length * rounds;
    const rate = checks / secs;
    console.log(`exhunt: ${checks} checks (3 requests each) in ${secs.toFixed(2)} s = ${rate.toFixed(0)} checks/s; states ${JSON.stringify(states)}`);
    // Wall-clock rates depend on whatever else runs on the machine; client CPU per check does much less.
    const cpuMs = (cpu.user + cpu.system) / 1000 / checks;
    console.log(`exhunt: client CPU ${cpuMs.toFixed(2)} ms/check (one core could do ~${(1000 / cpuMs).toFixed(0)} checks/s); load average ${(await import('node:os')).loadavg()[0].toFixed(1)}`);
    console.log(`exhunt: peak RSS ${(peakRss / 2 ** 20).toFixed(0)} MiB; RSS after each round ${rssAfterRound.map((b) => (b / 2 ** 20).toFixed(0)).join(', ')} MiB`);

    const ref = await curlReference(urls, concurrency);
    if (ref) {
      console.log(`curl (xargs -P ${concurrency}, same 3 requests per target, one connection): ${urls.length} targets in ${ref.toFixed(2)} s = ${(urls.length / ref).toFixed(0)} checks/s`);
      console.log(`ratio exhunt/curl: ${(rate / (urls.length / ref)).toFixed(2)}x`);
    } else console.log('curl or xargs not available: no reference run');
    if (rate < 500) console.log(`NOTE: below the 500 checks/s target`);
  } finally {
    child.stdin.end();
    rmSync(certDir, { recursive: true, force: true });
  }
}

function firstLine(stream) {
  return new Promise((resolve, reject) => {
    const rl = createInterface({ input: stream });
    rl.once('line', (l) => {
      rl.close();
      resolve(l);
    });
    stream.once('error', reject);
  });
}

/** Same targets through curl: xargs feeds three URLs per invocation; arguments are passed without a shell. */
async function curlReference(urls, concurrency) {
  try {
    execFileSync('curl', ['--version'], { stdio: 'ignore' });
  } catch {
    return null;
  }
  const input = urls.map((u) => `${u}/owa/auth/logon.aspx ${u}/ecp/Current/exporttool/microsoft.exchange.ediscovery.exporttool.application ${u}/owa/auth/x.js`).join('\n');
  const t0 = performance.now();
  await new Promise((resolve, reject) => {
    const p = spawn('xargs', ['-P', String(concurrency), '-n', '3', 'curl', '-sk', '--max-time', '5', '-o', '/dev/null', '-o', '/dev/null', '-o', '/dev/null', '-H', `Cookie: ${COOKIE}`], { stdio: ['pipe', 'ignore', 'ignore'] });
    p.on('error', reject);
    // xargs exits 123 when some curl failed (the mitigated targets abort the probe): expected.
    p.on('close', () => resolve());
    p.stdin.end(input);
  });
  return (performance.now() - t0) / 1000;
}
