// The rule set: every text-log format, the record rules (text logs and event logs), the file rules and the host
// rules, with plain needle lists. One pure function builds it from data loaded for the scan; the engine, its
// workers (each rebuilds it from the same options) and the rule catalogue read it. No module state.
import type { TextLogFormat } from '../parsers/types.js';
import { ECP_ACTIVITY_FORMAT, ECP_SERVER_FORMAT, HTTPPROXY_FORMAT, OABGEN_FORMAT, RPS_CMDLET_FORMAT, RPS_HTTP_FORMAT } from '../parsers/exchange.js';
import { iisFormat } from '../parsers/iis.js';
import { EXCHANGE_SETUP_FORMAT } from '../parsers/setup.js';
import { DEFENDER_MPLOG_FORMAT } from '../parsers/defender.js';
import { IIS_CSV_FORMAT, IIS_NATIVE_FORMAT, IIS_NCSA_FORMAT, OTHER_NCSA_FORMAT } from '../parsers/web-logs.js';
import type { RecordRule, RuleContext } from './types.js';
import { HTTPPROXY_RULES } from './httpproxy.js';
import { ECP_RULES, OABGEN_RULES } from './ecp.js';
import { IIS_RULES } from './iis.js';
import { CMDLET_RULES } from './cmdlets.js';
import { EVTX_RULES } from './evtx.js';
import { DEFENDER_RULES } from './defender.js';
import { RPS_HTTP_RULES } from './rps-http.js';
import { FILE_RULES } from './files/rules.js';
import { HOST_RULES, type HostRule } from './host.js';
import { builtinIocs, type IocStore } from './iocs.js';

export const TEXT_FORMATS: TextLogFormat[] = [HTTPPROXY_FORMAT, ECP_SERVER_FORMAT, ECP_ACTIVITY_FORMAT, RPS_CMDLET_FORMAT, RPS_HTTP_FORMAT, OABGEN_FORMAT, iisFormat, IIS_NATIVE_FORMAT, IIS_NCSA_FORMAT, OTHER_NCSA_FORMAT, IIS_CSV_FORMAT, EXCHANGE_SETUP_FORMAT, DEFENDER_MPLOG_FORMAT];

/** The shipped rules over text-log records (IOC needles not yet added: see `buildRuleSet`). */
export const RECORD_RULES: RecordRule[] = [...HTTPPROXY_RULES, ...ECP_RULES, ...OABGEN_RULES, ...IIS_RULES, ...CMDLET_RULES, ...RPS_HTTP_RULES, ...DEFENDER_RULES];

export interface RuleSetInput {
  /** The shipped IOC lists plus the user's (--ioc). */
  iocs: IocStore;
  /** YARA rules file (--yara), run by the file sweep. */
  yara: string | null;
  /** Record rules loaded from rule files (--rules), e.g. Sigma rules through the field mapping. */
  ruleFiles: readonly RecordRule[];
}

export interface RuleSet {
  formats: readonly TextLogFormat[];
  /** Rules over text-log records, needles resolved to plain lists. */
  recordRules: readonly RecordRule[];
  /** Rules over event-log records (EVTX files and XML exports). */
  evtxRules: readonly RecordRule[];
  fileRules: typeof FILE_RULES;
  hostRules: readonly HostRule[];
  /** What rules read beside the record (the IOC store). */
  context: RuleContext;
  yara: string | null;
}

/** The rule with its IOC-derived needles added to `needles`: the engine sees one plain list. */
function resolveNeedles(rule: RecordRule, iocs: IocStore): RecordRule {
  if (!rule.iocNeedles) return rule;
  return { ...rule, needles: [...rule.needles, ...rule.iocNeedles(iocs)] };
}

const isEventRule = (r: RecordRule) => r.formats.includes('evtx');

/**
 * An IIS rule for IIS's other log formats, NCSA logs and IIS records exported as CSV (parsers/web-logs.ts), whose records carry the W3C field names: `match`
 * reads them alike, but the stages that test the line as written assume a W3C line (fields between spaces, `POST
 * /owa/…`) and are dropped (each is only a prefilter), and needles lose the spaces a W3C line puts around a field
 * (` t=`, `$ `): in `?t=` or `user$,` they are not there.
 */
function forOtherIisFormats(rule: RecordRule): RecordRule {
  const { lineTest: _t, lineBytes: _b, fieldTest: _f, needleFields: _n, ...rest } = rule;
  return { ...rest, formats: [IIS_NATIVE_FORMAT.id, IIS_NCSA_FORMAT.id, OTHER_NCSA_FORMAT.id, IIS_CSV_FORMAT.id], needles: [...new Set(rule.needles.map((n) => n.trim()))] };
}

export function buildRuleSet(input: RuleSetInput): RuleSet {
  const own = [...RECORD_RULES, ...input.ruleFiles.filter((r) => !isEventRule(r))].map((r) => resolveNeedles(r, input.iocs));
  // Listed first: a catalogue that keeps one rule per id keeps the last, the rule as written.
  const text = [...own.filter((r) => r.formats.includes('iis')).map(forOtherIisFormats), ...own];
  return {
    formats: TEXT_FORMATS,
    recordRules: text,
    evtxRules: [...EVTX_RULES, ...input.ruleFiles.filter(isEventRule)],
    fileRules: FILE_RULES,
    hostRules: HOST_RULES,
    context: { iocs: input.iocs },
    yara: input.yara,
  };
}

/** The shipped rules and IOC lists alone (no --ioc, --yara or --rules): tests, benches, the catalogue. */
export function defaultRuleSet(): RuleSet {
  return buildRuleSet({ iocs: builtinIocs(), yara: null, ruleFiles: [] });
}
