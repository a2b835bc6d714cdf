// Every run pays for the modules it loads before its first byte (ES modules are resolved and compiled file by file,
// in the main thread and again in each worker): a run loads only what it uses. Checked on the built CLI by listing
// the files each run loads (a module-loader hook), never by timing. `npm run build` bundles the CLI
// (scripts/bundle.mjs): each chunk is then one file to load instead of one per source file.
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync, mkdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { Command } from 'commander';
import { afterAll, describe, expect, it } from 'vitest';
import { COMMANDS, registrationsFor } from '../src/cli/commands/index.js';
import { jobsAsked } from '../src/cli/early.js';
import { CLI } from './support/cli.js';

const dir = mkdtempSync(join(tmpdir(), 'exhunt-startup-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

// Registered with --import in the main thread and, through execArgv, in every worker thread.
const HOOKS = join(dir, 'hooks.mjs');
writeFileSync(HOOKS, `import { appendFileSync } from 'node:fs';\nexport async function load(url, context, next) {\n  appendFileSync(process.env.EXHUNT_TEST_LOADS, url + '\\n');\n  return next(url, context);\n}\n`);
const REGISTER = join(dir, 'register.mjs');
writeFileSync(REGISTER, `import { register } from 'node:module';\nregister(${JSON.stringify(pathToFileURL(HOOKS).href)});\n`);

/** The files of this package (`dist/cli/main.js`, `node_modules/yaml/…`) a CLI run loads, in every thread, with their text. */
function loads(name: string, args: string[]): { status: number | null; stderr: string; files: string[]; text: (marker: string) => string[] } {
  const list = join(dir, `${name}.txt`);
  writeFileSync(list, '');
  const r = spawnSync(process.execPath, ['--import', pathToFileURL(REGISTER).href, CLI, ...args], { encoding: 'utf8', env: { ...process.env, EXHUNT_TEST_LOADS: list }, timeout: 120_000 });
  const root = pathToFileURL(join(CLI, '..', '..', '..')).href;
  const urls = readFileSync(list, 'utf8').split('\n').filter((u) => u.startsWith(root));
  const texts = new Map(urls.map((u) => [u.slice(root.length + 1), readFileSync(fileURLToPath(u), 'utf8')]));
  return { status: r.status, stderr: r.stderr, files: urls.map((u) => u.slice(root.length + 1)), text: (marker) => [...texts].filter(([, t]) => t.includes(marker)).map(([f]) => f) };
}

/** Text found only in code a run may leave unloaded (the same in tsc's modules and in the bundle's chunks). */
const MARKERS = {
  engine: 'function scanEach',
  yaml: 'tag:yaml.org,2002',
  check: 'remote exposure check of Exchange servers',
  collect: 'copy Exchange evidence (logs, event logs',
};

/** Real IIS W3C lines (the shape of bench/iis-gen.mjs), `n` of them: benign traffic. */
function iisLog(n: number): string {
  const head = '#Software: Microsoft Internet Information Services 10.0\r\n#Version: 1.0\r\n#Date: 2021-03-03 00:00:00\r\n#Fields: date time s-ip cs-method cs-uri-stem cs-uri-query s-port cs-username c-ip cs(User-Agent) cs(Referer) sc-status sc-substatus sc-win32-status time-taken\r\n';
  const line = (i: number) => `2021-03-03 00:${String(Math.floor(i / 60) % 60).padStart(2, '0')}:${String(i % 60).padStart(2, '0')} 10.0.0.5 GET /owa/auth/logon.aspx replaceCurrent=1 443 - 192.0.2.${i % 250} Mozilla/5.0+(Windows+NT+10.0;+Win64;+x64) - 200 0 0 ${i % 97}\r\n`;
  return head + Array.from({ length: n }, (_, i) => line(i)).join('');
}

describe('commands load lazily', () => {
  it('each entry registers exactly the command it is named for', async () => {
    const names: string[] = [];
    for (const [name, load] of COMMANDS) {
      const program = new Command();
      (await load())(program, { scanWorkers: [] });
      expect(program.commands.map((c) => c.name())).toEqual([name]);
      names.push(name);
    }
    expect(new Set(names).size).toBe(names.length);
  });

  it('a command line loads its own command, --version none, help and unknown names all', async () => {
    expect(await registrationsFor(['node', 'exhunt', '--version'])).toEqual([]);
    expect(await registrationsFor(['node', 'exhunt', 'scan', 'x'])).toEqual([await COMMANDS[0][1]()]);
    for (const argv of [['node', 'exhunt'], ['node', 'exhunt', '--help'], ['node', 'exhunt', 'help', 'scan'], ['node', 'exhunt', 'scna']]) {
      expect((await registrationsFor(argv)).length).toBe(COMMANDS.length);
    }
  });
});

describe('code a run loads (built CLI)', () => {
  it('--version loads no engine and no command', () => {
    const r = loads('version', ['--version']);
    expect(r.status).toBe(0);
    expect(r.files).toContain('dist/cli/main.js');
    for (const marker of Object.values(MARKERS)) expect(r.text(marker)).toEqual([]);
  });

  it('a scan of IIS logs, in workers, loads neither YAML nor other commands’ code; npm run build bundled it', () => {
    // Two files of 5 MB: two batches, so --jobs 2 scans one here and starts a worker for the other, which loads the
    // scanner itself.
    const host = join(dir, 'host', 'inetpub', 'logs', 'LogFiles', 'W3SVC1');
    mkdirSync(host, { recursive: true });
    const text = iisLog(34_000);
    expect(text.length).toBeGreaterThan(4.5 * 1024 * 1024);
    writeFileSync(join(host, 'u_ex210303.log'), text);
    writeFileSync(join(host, 'u_ex210304.log'), text.replaceAll('2021-03-03', '2021-03-04'));
    const r = loads('scan', ['scan', join(dir, 'host'), '-q', '--jobs', '2', '--json', join(dir, 'r.json')]);
    expect(r.stderr).toBe('');
    const report = JSON.parse(readFileSync(join(dir, 'r.json'), 'utf8')) as { hosts: Array<{ stats: { files_scanned: number } }> };
    expect(report.hosts[0].stats.files_scanned).toBe(2);
    // The worker entry was loaded in one thread (this thread is the second lane), and the engine with it.
    expect(r.files.filter((f) => f.endsWith('/worker.js'))).toHaveLength(1);
    expect(r.text(MARKERS.engine).length).toBeGreaterThan(0);
    expect({ yaml: r.text(MARKERS.yaml), check: r.text(MARKERS.check), collect: r.text(MARKERS.collect) }).toEqual({ yaml: [], check: [], collect: [] });
    // scripts/bundle.mjs: the CLI's own code in a few dozen chunks, not one module per source file (~140).
    expect(r.files.filter((f) => f.startsWith('dist/cli/chunk-')).length).toBeGreaterThan(0);
    expect(new Set(r.files.filter((f) => f.startsWith('dist/'))).size).toBeLessThan(60);
  });
});

describe('scan workers started before the scanner loads (cli/early.ts)', () => {
  it('reads --jobs as commander does: -j N, -jN, --jobs N, --jobs=N, the last one, not after --', () => {
    expect(jobsAsked(['x', '--jobs', '3'])).toBe(3);
    expect(jobsAsked(['-j4', 'x'])).toBe(4);
    expect(jobsAsked(['--jobs=2', 'x', '-j', '5'])).toBe(5);
    expect(jobsAsked(['x', '--', '--jobs', '2'])).toBeUndefined();
    expect(jobsAsked(['x', '--json', 'r.json'])).toBeUndefined();
    expect(jobsAsked(['--jobs', 'many'])).toBeNaN();
  });

  it('a scan that stops on a usage error is not kept running by its early workers, and says why', () => {
    const r = spawnSync(process.execPath, [CLI, 'scan', join(dir, 'no-such-folder'), '--jobs', '2'], { encoding: 'utf8', timeout: 60_000 });
    expect({ status: r.status, stderr: r.stderr }).toEqual({ status: 2, stderr: expect.stringMatching(/^exhunt: no such file or folder: .*no-such-folder\n$/) });
  });
});
