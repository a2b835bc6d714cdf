// The Velociraptor artifact (integrations/velociraptor/): its YAML shape, and the exact command line its VQL runs,
// executed against the example evidence with the parameters' defaults: one row per finding and one verdict row per
// host, every line a JSON document the VQL parses.
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { CLI, exhunt } from './support/cli.js';

const FILE = 'integrations/velociraptor/Exchange.Detection.Exhunt.yaml';

interface Artifact {
  name: string;
  type: string;
  description: string;
  precondition: string;
  tools: Array<{ name: string; serve_locally?: boolean }>;
  resources: { timeout: number; cpu_limit: number };
  parameters: Array<{ name: string; default: string | number; type?: string }>;
  sources: Array<{ query: string }>;
}

const artifact = parse(readFileSync(FILE, 'utf8')) as Artifact;
const param = (name: string) => artifact.parameters.find((p) => p.name === name)?.default;

/** The argv list of the VQL execve() call, with parameters and the tool path substituted. */
function argvFor(scanRoot: string, exRoot = scanRoot, defRoot = scanRoot): string[] {
  const m = /execve\(argv=\[([^\]]*)\]/.exec(artifact.sources[0].query);
  expect(m, 'execve(argv=[...]) in the VQL').not.toBeNull();
  return m![1].split(',').map((raw) => {
    const t = raw.trim();
    if (t === 'ExePath') return CLI;
    if (t === 'ScanRoot') return scanRoot;
    if (t === 'ExRoot') return exRoot;
    if (t === 'DefRoot') return defRoot;
    if (t === 'Since') return String(param('Since'));
    if (t === 'str(str=Jobs)') return String(param('Jobs'));
    const lit = /^"([^"]*)"$/.exec(t);
    if (!lit) throw new Error(`unexpected argv element in the VQL: ${t}`);
    return lit[1];
  });
}

interface Row {
  event: { kind: string };
  host: { name: string };
  rule?: { id: string };
  exhunt: { host_verdict: string; host_label?: string };
}

function run(scanRoot: string, exRoot = scanRoot): { code: number | null; rows: Row[] } {
  const [, ...args] = argvFor(scanRoot, exRoot);
  const r = exhunt(args);
  const lines = r.stdout.split('\n').filter((l) => l !== '');
  for (const l of lines) expect(l).toMatch(/^\{/); // the VQL keeps lines matching ^\{
  return { code: r.code, rows: lines.map((l) => JSON.parse(l) as Row) };
}

describe('Velociraptor artifact Exchange.Detection.Exhunt', () => {
  it('has the shape Velociraptor loads: name, CLIENT type, parameters, the tool, a VQL source', () => {
    expect(artifact.name).toBe('Exchange.Detection.Exhunt');
    expect(artifact.type).toBe('CLIENT');
    expect(artifact.precondition).toMatch(/OS = 'windows'/);
    expect(artifact.tools).toEqual([{ name: 'Exhunt', serve_locally: true }]);
    expect(artifact.parameters.map((p) => p.name)).toEqual(['ScanRoot', 'ExchangeRoot', 'DefenderRoot', 'Since', 'Jobs']);
    expect(param('DefenderRoot')).toBe('');
    expect(param('ScanRoot')).toBe('C:\\');
    expect(param('ExchangeRoot')).toBe('');
    expect(param('Since')).toMatch(/^\d{4}-\d{2}-\d{2}$/);
    expect(artifact.resources.cpu_limit).toBeGreaterThan(0);
    expect(artifact.sources).toHaveLength(1);
    const q = artifact.sources[0].query;
    expect(q).toContain('Artifact.Generic.Utils.FetchBinary(ToolName="Exhunt"');
    expect(q).toMatch(/parse_json\(data=Stdout\)/);
    // Exchange's folder (ExchangeRoot, else %ExchangeInstallPath%, else ScanRoot) is read with ScanRoot as one host.
    expect(q).toMatch(/LET InstallPath <= environ\(var="ExchangeInstallPath"\)/);
    expect(q).toMatch(/LET ExRoot <= if\(condition=ExchangeRoot, then=ExchangeRoot, else=if\(condition=InstallPath, then=InstallPath, else=ScanRoot\)\)/);
    // Defender's support folder (MPLog) too, wherever ScanRoot points (real10 leftover).
    expect(q).toMatch(/LET DefRoot <= if\(condition=DefenderRoot, then=DefenderRoot, else=format\(format="%v\\\\Microsoft\\\\Windows Defender\\\\Support", args=if\(condition=ProgramData, then=ProgramData, else="C:\\\\ProgramData"\)\)\)/);
    const def = 'C:\\ProgramData\\Microsoft\\Windows Defender\\Support';
    expect(argvFor('C:\\', 'D:\\Exchange\\V15', def)).toEqual([CLI, 'scan', 'C:\\', '--also', 'D:\\Exchange\\V15', '--also', def, '--since', String(param('Since')), '--ndjson', '-', '--ndjson-hosts', '--quiet', '--jobs', '1']);
  });

  it('its command line gives one row per finding and one verdict row per host', () => {
    const bad = run('examples/evidence/mail01-compromised');
    expect(bad.code).toBe(1);
    const verdicts = bad.rows.filter((r) => r.event.kind === 'state');
    const findings = bad.rows.filter((r) => r.event.kind === 'alert');
    expect(verdicts).toHaveLength(1);
    expect(verdicts[0].exhunt.host_verdict).toBe('compromised');
    expect(verdicts[0].host.name).toBe('MAIL01');
    expect(findings.length).toBeGreaterThan(10);
    expect(findings.every((f) => f.exhunt.host_verdict === 'compromised' && typeof f.rule?.id === 'string')).toBe(true);
    expect(bad.rows.at(-1)).toBe(verdicts[0]);
    const clean = run('examples/evidence/mail02-clean');
    expect(clean.rows.filter((r) => r.event.kind === 'state').map((r) => r.exhunt.host_verdict)).toEqual(['clean']);
  });

  it('reads an Exchange folder outside ScanRoot as part of the same host: one verdict row', () => {
    // Stands in for C:\ plus Exchange on D:\: the second folder's findings belong to the first folder's host.
    const both = run('examples/evidence/mail02-clean', 'examples/evidence/mail01-compromised');
    expect(both.code).toBe(1);
    const verdicts = both.rows.filter((r) => r.event.kind === 'state');
    expect(verdicts.map((r) => r.exhunt.host_verdict)).toEqual(['compromised']);
    expect(both.rows.filter((r) => r.event.kind === 'alert').length).toBeGreaterThan(10);
  });
});
