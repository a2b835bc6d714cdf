import type { EvidenceValue, Kind, LogRecord, Severity } from '../model.js';
import type { IocStore } from './iocs.js';
import type { Condition } from './conditions.js';

/** What every detection declares about itself. Rules are data plus a small matcher. */
export interface RuleMeta {
  id: string;
  title: string;
  cves: string[];
  severity: Severity;
  kind: Kind;
  /** Public sources this rule follows (URLs or `repo path (commit)` citations). */
  references: string[];
  /** One sentence for reports: what it means when this fires. */
  description: string;
  /**
   * Every other id, title, severity and kind this rule's findings can carry (e.g. PL-01 reports PL-02 … PL-08, WS-40
   * is critical when the shell was used): declared as data, so the catalogue lists them and a finding takes its
   * meaning from here, never from matcher code (test/rules-doc.test.ts proves it for every emitted finding).
   */
  grades?: readonly Grade[];
  /**
   * Hits from a known scanner or from Exchange's own health probes are graded by `KNOWN_CLIENT` (src/rules/finding.ts):
   * same id and title, kind `scan`, severity low (scanner) or info (probe).
   */
  knownClients?: boolean;
}

/**
 * A graded sub-rule: the id, title, severity, kind (and CVEs) its findings carry, and when it applies. A grade under
 * the rule's own id and title (WS-40 when the shell was used) leaves them out and is named by `as`.
 */
export interface Grade {
  /** Default: the rule's id. */
  id?: string;
  /** The name a matcher picks this grade by (`RuleHit.grade`), e.g. `PL-02 attempt`. Default: the id. */
  as?: string;
  /** Default: the rule's title. */
  title?: string;
  severity: Severity;
  kind: Kind;
  /** The condition in words, e.g. `the SSRF went to autodiscover only`. */
  when: string;
  /** Default: the rule's CVEs. */
  cves?: readonly string[];
  /**
   * For a rule with a `condition`: the grade as data, over the same fields. A hit the rule's condition lets through
   * takes the first grade whose condition holds (else the rule's own meaning), and the grade exports to Sigma as its
   * own rule with its own level.
   */
  condition?: Condition;
}

/**
 * A rule's answer for one record: which declared grade it is (none = the rule itself) and the evidence-specific
 * detail. A hit cannot set its own id, title, severity, kind or CVEs: those come from the declaration.
 */
export interface RuleHit {
  summary: string;
  evidence: Record<string, EvidenceValue>;
  /** The declared grade (`Grade.as`, else `Grade.id`) this hit reports under. */
  grade?: string;
  /** A known scanner's or health probe's request, for rules that declare `knownClients`. */
  client?: 'scanner' | 'probe';
  client_ip?: string | null;
  time?: string | null;
}

/** What rules may read beside the record: data loaded for this scan (never module state). */
export interface RuleContext {
  iocs: IocStore;
}

/** A necessary condition on one field of a line, before it is parsed (`RecordRule.fieldTest`). */
export interface FieldTest {
  field: string;
  test(value: string, ctx: RuleContext): boolean;
  /**
   * Optional, tried first on a field of ASCII without `%` (nearly every IIS stem and method; its text is its bytes,
   * and decodes to itself), on its bytes `field[start, end)`: false only where `test` is false on that text (tests
   * check this), so most fields are rejected with no string made. Other fields go to `test` alone.
   */
  plain?(field: Uint8Array, start: number, end: number, ctx: RuleContext): boolean;
}

/** A rule over parsed log records (HttpProxy, ECP, OABGenerator, IIS, EVTX ...). */
export interface RecordRule extends RuleMeta {
  /** Record formats this rule reads (`LogRecord.format`). */
  formats: readonly string[];
  /**
   * Cheap prefilter: ASCII literals matched case-insensitively against the raw line (text logs).
   * `match` only sees lines that contain at least one needle. Empty = every record.
   */
  needles: readonly string[];
  /**
   * Needles that come from IOC data (shipped lists and --ioc files): the rule set adds them to `needles` when it is
   * built, so the engine only ever sees a plain list.
   */
  iocNeedles?(iocs: IocStore): string[];
  /**
   * `insensitive` (default): needles match in any letter case (the engine searches a lower-cased copy of the text).
   * `exact`: needles are tokens the server itself writes in a fixed case (e.g. `ServerInfo~`), searched as written,
   * which is several times faster. Never use `exact` for attacker-controlled text such as URLs.
   */
  needleCase?: 'exact' | 'insensitive';
  /**
   * Optional second stage for rules whose needles are common in benign traffic: a regex that the raw line must
   * match for `match` to be worth calling. It must be a necessary condition of `match` (tests check this); a line
   * that no rule still wants is not parsed at all.
   */
  lineTest?: RegExp;
  /**
   * Optional cheaper stage before `lineTest`, on the raw line's bytes (not decoded): false only where `lineTest`
   * cannot match (or, for a rule without one, where `match` cannot fire; tests check this on random and real lines).
   * Rules that share one function are tested once per line.
   */
  lineBytes?: (line: Uint8Array, start: number, end: number) => boolean;
  /**
   * The fields of the format's layout (IIS W3C `cs-uri-stem`, `cs-uri-query` …) in which the needles matter: a line
   * whose needles occur only in other fields (`.aspx` in a Referer) does not reach `match`. Must be a necessary
   * condition of `match`, like `lineTest`. Applied only by formats with a plain field separator, and never to a line
   * whose field count does not match its layout (its fields cannot be placed). Absent: anywhere in the line.
   */
  needleFields?: readonly string[];
  /**
   * Optional second stage on one field as logged, for formats with a plain field separator: `test` gets the text of
   * `field` on the line ('' when the layout has no such field) and must pass for `match` to be worth calling. A
   * necessary condition of `match`, like `lineTest` (tests check this); cheaper than parsing where a rule's decision
   * rests on one field (the web-shell rules on the stem of every OWA page). Never applied to a line whose field count
   * does not match its layout. Rules that share one `fieldTest` object are tested once per line.
   */
  fieldTest?: FieldTest;
  /**
   * The rule as data, when it is written in the condition language (src/rules/conditions.ts) over the fields of its
   * Sigma logsource: such a rule exports to Sigma (`exhunt rules export --sigma`). Code matchers have none.
   */
  condition?: Condition;
  /**
   * How a rule with a `condition` exports to Sigma: the logsource (a `name` in data/sigma/field-mapping.json) and,
   * where the condition's field names are not Sigma's, their Sigma names (null = a keyword search over the event).
   */
  sigmaExport?: { logsource: string; fields?: Readonly<Record<string, string | null>> };
  /** Where a rule imported from (or exportable to) Sigma came from. */
  sigma?: { id: string; author: string; logsource: string; tags: string[] };
  /** MITRE ATT&CK tags (`attack.t1190`, `attack.initial-access`) for the Sigma export. */
  attack?: string[];
  match(rec: LogRecord, ctx: RuleContext): RuleHit | RuleHit[] | null;
}
