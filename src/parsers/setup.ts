// C:\ExchangeSetupLogs\ExchangeSetup.log: one block per setup run (install, CU upgrade, PrepareAD ...), each line
// `[MM/dd/yyyy HH:mm:ss.ffff] [level] text` in the server's local time, whose offset the run states once
// (`Local time zone: (UTC-06:00) ...`). Layout from the real logs in microsoft/CSS-Exchange Setup/Tests (MIT),
// e.g. KnownIssues/ExchangeSetup_Service_Disabled.log. A completed install or upgrade run tells which build was in
// place from when, and the first completed install when Exchange was installed: facts for the exposure windows.
import type { LogRecord } from '../model.js';
import type { LineParser, TextLogFormat } from './types.js';

const LINE = /^\[(\d{2})\/(\d{2})\/(\d{4}) (\d{2}):(\d{2}):(\d{2})(?:\.(\d{1,4}))?\] \[\d+\] /;
const TZ = /Local time zone: \(UTC(?:([+-])(\d{2}):(\d{2}))?\)/;
const VERSION = /Setup version: (\d+\.\d+\.\d+\.\d+)\.?\s*$/;
const MODE = /The installation mode is set to: '(\w+)'/;
/** Runs that put a build on this server; PrepareSchema / PrepareAD runs and uninstalls do not. */
const INSTALLS = new Set(['install', 'buildtobuildupgrade', 'recoverserver']);

/** `[03/11/2021 15:43:05.0713] ...` in local time shifted by `offsetMin` to UTC ISO; null when not a log line. */
function lineTime(line: string, offsetMin: number): string | null {
  const m = LINE.exec(line);
  if (!m) return null;
  const t = Date.UTC(+m[3], +m[1] - 1, +m[2], +m[4], +m[5], +m[6], Math.floor(Number(`0.${m[7] ?? '0'}`) * 1000)) - offsetMin * 60_000;
  return Number.isNaN(t) ? null : new Date(t).toISOString();
}

interface Run {
  version: string | null;
  mode: string | null;
  line: number;
}

type SetupFact = { kind: 'build' | 'install'; value: string; origin: string; line: number; time: string };

export class ExchangeSetupParser implements LineParser {
  private offsetMin = 0;
  private run: Run | null = null;
  private readonly found: SetupFact[] = [];

  constructor(private readonly rel: string) {}

  directive(): void {}

  parse(line: string, lineNo: number): LogRecord | null {
    const time = lineTime(line, this.offsetMin);
    // Continuation lines of multi-line entries (scripts, stack traces) carry no time: not records.
    if (time === null) return null;
    return { format: 'exchange-setup', path: this.rel, line: lineNo, time, fields: { Message: line.slice(line.indexOf('] [') + 1) }, raw: line };
  }

  observe(line: string, lineNo: number): void {
    if (line.includes('] Starting Microsoft Exchange Server') && line.trimEnd().endsWith(' Setup')) {
      this.run = { version: null, mode: null, line: lineNo };
      this.offsetMin = 0;
      return;
    }
    const tz = TZ.exec(line);
    if (tz) {
      this.offsetMin = tz[1] ? (tz[1] === '-' ? -1 : 1) * (+tz[2] * 60 + +tz[3]) : 0;
      return;
    }
    if (!this.run) return;
    const v = VERSION.exec(line);
    if (v) this.run.version = v[1];
    const mode = MODE.exec(line);
    if (mode) this.run.mode = mode[1].toLowerCase();
    if (!line.includes('The Exchange Server setup operation completed successfully')) return;
    const time = lineTime(line, this.offsetMin);
    const run = this.run;
    this.run = null;
    if (!time || !run.version || !run.mode || !INSTALLS.has(run.mode)) return;
    this.found.push({ kind: 'build', value: run.version, origin: `ExchangeSetup.log (${run.mode === 'install' ? 'install' : 'upgrade'} completed)`, line: lineNo, time });
    if (run.mode === 'install') this.found.push({ kind: 'install', value: run.version, origin: 'ExchangeSetup.log (install completed)', line: lineNo, time });
  }

  facts(): SetupFact[] {
    return this.found;
  }
}

export const EXCHANGE_SETUP_FORMAT: TextLogFormat = {
  id: 'exchange-setup',
  detect: (head) => LINE.test(head) && /\] \[\d+\] Starting Microsoft Exchange Server\b/.test(head.slice(0, 4096)),
  coverageSource: () => 'ExchangeSetupLogs',
  createParser: (rel) => new ExchangeSetupParser(rel),
  factNeedles: ['Starting Microsoft Exchange Server', 'Local time zone:', 'Setup version:', 'installation mode is set to', 'setup operation completed successfully'],
};
