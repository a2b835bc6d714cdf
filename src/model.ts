// The data model shared by every layer: evidence -> records -> findings -> host verdict -> reports.

export const SEVERITIES = ['critical', 'high', 'medium', 'low', 'info'] as const;
export type Severity = (typeof SEVERITIES)[number];

export const KINDS = ['exploitation', 'attempt', 'scan', 'webshell', 'post-exploitation', 'ioc', 'exposure'] as const;
export type Kind = (typeof KINDS)[number];

export const VERDICTS = ['compromised', 'attempted', 'suspicious', 'clean', 'insufficient-evidence'] as const;
export type Verdict = (typeof VERDICTS)[number];

export type Scalar = string | number | boolean | null;
export type EvidenceValue = Scalar | Scalar[] | { [key: string]: EvidenceValue };

/** Where a finding came from. `path` is relative to the host's input PATH, with `/` separators. */
export interface SourceRef {
  path: string;
  /** 1-based physical line number (header lines count). */
  line?: number;
  /** Record number inside a binary log (EVTX EventRecordID). */
  record?: number;
  /** The file's Windows path on the server, when the collection records it (Velociraptor, KAPE); `path` is then the container path. */
  server_path?: string;
}

/**
 * Evidence lanes: where a finding came from, decided by the format that parsed it (never guessed from the path).
 * `Host` is for host rules that judge the host as a whole (EXP-01: the build's exposure).
 */
export const LANES = ['HttpProxy', 'ECP', 'OABGenerator', 'IIS', 'Event logs', 'Files', 'Other logs', 'Host'] as const;
export type Lane = (typeof LANES)[number];

/**
 * One detection hit. Well-known `evidence` keys used for correlation and reports:
 * `request_id`, `ecp_canary`, `url`, `method`, `status`, `user_agent`, `file` (a Windows or evidence path),
 * `anchor_mailbox`, `cmdlet`, `sha256`.
 */
export interface Finding {
  id: string;
  rule: string;
  title: string;
  cves: string[];
  severity: Severity;
  kind: Kind;
  /** ISO 8601 UTC with Z, or null when the evidence has no time. */
  time: string | null;
  client_ip: string | null;
  source: SourceRef;
  summary: string;
  evidence: Record<string, EvidenceValue>;
  /** Evidence lane, from the format that parsed the evidence. */
  lane: Lane;
  /** How far this finding alone shows an attacker got (null for exposure findings: context, not an attack step). */
  stage: Stage | null;
  /**
   * The published rules this detection was adapted from, when their licence asks that matches keep the author
   * (Detection Rule License 1.1: SigmaHQ, signature-base). Absent when the rule owes no such credit.
   */
  credits?: RuleCredit[];
  /**
   * Present when this row stands for many findings of one kind on the host (same rule, title, severity, kind,
   * stage and lane; engine/group.ts): the other fields are those of the first of them.
   */
  group?: FindingGroup;
}

/** One upstream rule a detection follows, credited as its licence requires. */
export interface RuleCredit {
  /** `SigmaHQ` or `signature-base`. */
  project: string;
  /** The upstream rule: Sigma id, YARA rule name or IOC file. */
  rule: string;
  /** The upstream rule's author field, as written there. */
  author: string;
  /** SPDX-style licence id, e.g. `DRL-1.1`. */
  license: string;
  license_url: string;
  /** The upstream rule file. */
  url: string;
}

/** A sample of a grouped finding: where and when it was, and its one-line summary. */
export interface GroupSample {
  time: string | null;
  client_ip: string | null;
  source: SourceRef;
  summary: string;
  /** `evidence.file`, when the finding names a file. */
  file?: string;
}

/** Many findings of one kind collapsed into one counted row (engine/group.ts has the thresholds). */
export interface FindingGroup {
  /** How many findings this row stands for (this one included). */
  count: number;
  /** Earliest and latest time among them (null: none dated). */
  first_time: string | null;
  last_time: string | null;
  /** The deepest folder all their files (or evidence paths) share, `/` or `\\` as written; null when none. */
  folder: string | null;
  /** Distinct client IPs (counted up to a cap, see engine/group.ts) and the most frequent ones with their counts. */
  distinct_ips: number;
  client_ips: Array<{ ip: string; count: number }>;
  /** The first and the last few in report order (time, then place). */
  first: GroupSample[];
  last: GroupSample[];
}

/** How many findings a row stands for: 1, or a group's count. */
export function findingWeight(f: Pick<Finding, 'group'>): number {
  return f.group?.count ?? 1;
}

/** A finding before the host assigns its id. */
export type RawFinding = Omit<Finding, 'id'>;

/** A parsed log record. Parsers produce these and know nothing about attacks. */
export interface LogRecord {
  /** Parser format id, e.g. `httpproxy`, `ecp-server`, `oabgen`, `iis`, `evtx`. */
  format: string;
  /** Evidence path relative to the host input, `/` separated. */
  path: string;
  line?: number;
  record?: number;
  /** ISO 8601 UTC with Z when the record carries a time. */
  time: string | null;
  /** Values by column / field name (as named in the file's header). */
  fields: Record<string, string>;
  /** The raw text of the line, when the record came from a text line. */
  raw?: string;
  /**
   * A rule family's parsed view of this record, made by the first of its rules that reads the record and shared by
   * the others (rules/iis.ts: the decoded request). Parsers leave it undefined; nothing else reads it.
   */
  view?: object;
}

/** First/last record time seen in one log source (e.g. `HttpProxy/Ecp`, `IIS W3SVC1`, `EVTX Application`). */
export interface Coverage {
  source: string;
  format: string;
  files: number;
  records: number;
  first: string | null;
  last: string | null;
  /** Files of this row stopped before their end by the per-file time limit (skipped says where each stopped). */
  partial?: string[];
  /**
   * An IIS site that is not Exchange's (a second website: its requests are none of Exchange's virtual directories,
   * engine/exchange-sites.ts): read and listed, never web coverage of Exchange.
   */
  not_exchange?: true;
  /**
   * Some file of this row does not log query strings (IIS `#Fields` without cs-uri-query): it cannot cover the
   * windows of families whose requests are told by their query (ProxyShell, ProxyNotShell). Its source says so.
   */
  query_unlogged?: boolean;
}

/** Something the scan could not read or chose not to parse, said plainly. */
export interface Skipped {
  path: string;
  reason: string;
  line?: number;
  offset?: number;
  /**
   * Set when nothing of it was read: a file (or the byte range its reason names), a folder, an archive (zip, 7z, RAR,
   * tar) or a disk or forensic image, with all it holds. Such items weigh on the verdict (engine/verdict.ts); the
   * others are parts of files that were read, or left out on purpose.
   */
  unread?: 'file' | 'folder' | 'archive' | 'image';
}

/** A non-detection observation, e.g. a build number read from a log header. */
export interface Fact {
  /** `install`: when Exchange was first installed (value = the build installed), from the setup logs. */
  kind: 'build' | 'hostname' | 'note' | 'mitigation' | 'config' | 'install';
  value: string;
  source: SourceRef;
  time: string | null;
  /** Where the value came from, e.g. `#Version`, `ServerHostName`, `ExSetup.exe`. */
  origin: string;
}

/**
 * How far an attacker got, in kill-chain order. `none` = indicator matches only (no attack stage proven).
 * `exploited` = an SSRF or post-auth action reached the back end; `persistence` = a web shell written or present.
 */
export const STAGES = ['none', 'scanned', 'attempted', 'exploited', 'persistence', 'post-exploitation'] as const;
export type Stage = (typeof STAGES)[number];

/** Findings joined into one attack story on one host (by client IP, RequestId, ECP canary, web-shell path, time). */
export interface Incident {
  /** Host-local id, `I1`, `I2` ... in order of first activity. */
  id: string;
  stage: Stage;
  first: string | null;
  last: string | null;
  client_ips: string[];
  /** Finding ids in time order. */
  findings: string[];
  cves: string[];
  severity: Severity;
  /** The correlation keys that joined the findings (normalised). */
  keys: { request_ids: string[]; ecp_canaries: string[]; files: string[] };
  /** Evidence lanes involved, e.g. `HttpProxy`, `ECP`, `IIS`, `Files`. */
  sources: Lane[];
  /** One paragraph for people: who, when, what, how far. */
  narrative: string;
}

/** One row of the attack timeline: a burst of findings with the same rule, source lane and client. */
export interface TimelineEntry {
  time: string;
  last: string;
  /** Evidence lane of the findings. */
  source: Lane;
  rule: string;
  title: string;
  stage: Stage;
  severity: Severity;
  client_ip: string | null;
  count: number;
  /** Ids of the first findings of the burst (at most 20; `count` has the total). */
  findings: string[];
  incident: string | null;
}

/**
 * When the server was open to one exploited vulnerability family, from the evidence: opened by the later of the
 * family's first in-the-wild exploitation and the install date, closed by the first fixing build seen (or the
 * newest evidence). `start`/`end` are null when the server was never exposed during the evidence.
 */
export interface ExposureWindow {
  family: string;
  name: string;
  cves: string[];
  first_exploited: string;
  source: string;
  start: string | null;
  end: string | null;
  start_reason: string;
  end_reason: string;
  /** Earliest and latest record of the web logs (HttpProxy / IIS) that best cover the window. */
  logs: { source: string; first: string; last: string } | null;
  /** null when there is no window (nothing to cover); false when days inside it have no web log (`holes`). */
  covered: boolean | null;
  /** Days inside the window with no web log, between days that have them (deleted, or the server was off). */
  holes?: Array<{ from: string; to: string }>;
  /** Whether this window decides `clean` (exhunt's rules see the family's attacks in the logs it reads). */
  gating: boolean;
  /** One sentence: "exposed from A to B (why), logs cover C to D". */
  text: string;
}

export interface HostStats {
  files_seen: number;
  files_scanned: number;
  files_ignored: number;
  /** Log files left unread because their name date or modification time is outside --since/--until (when given). */
  files_skipped_by_date?: number;
  bytes_scanned: number;
  seconds: number;
}

export interface HostResult {
  /** The server's name from the evidence (else the input's name). Not unique across a fleet: see `label`. */
  name: string;
  /** Unique within a report: the input's own name (folder or zip) plus the server name, e.g. `acme-7.zip (MAIL01)`. */
  label?: string;
  inputs: string[];
  verdict: Verdict;
  reasons: string[];
  coverage: Coverage[];
  findings: Finding[];
  facts: Fact[];
  skipped: Skipped[];
  stats: HostStats;
  /** Exposure windows per exploited family (absent in reports from before they were computed). */
  exposure_windows?: ExposureWindow[];
  /** Findings joined into attack stories, and the timeline (computed once per host by the engine). */
  incidents: Incident[];
  timeline: TimelineEntry[];
  /** The furthest stage any incident reached. */
  stage: Stage;
  /** Web shells proven present and used (on disk, and a log shows the location answering 2xx), as first written. */
  shells: string[];
  /** Why the logs do not cover the window, one sentence each (empty when a web-facing source covers it). */
  coverage_gaps: string[];
}

export interface ToolInfo {
  name: 'exhunt';
  version: string;
  started: string;
  finished: string;
  command: string[];
  /** `since_explicit`: --since was given, so it (not the exposure windows) sets the window the logs must cover. */
  options: { since: string; since_explicit?: boolean };
}

export interface ScanReport {
  schema: 'exhunt.scan/1';
  tool: ToolInfo;
  hosts: HostResult[];
}

export const SEVERITY_RANK: Record<Severity, number> = { critical: 4, high: 3, medium: 2, low: 1, info: 0 };
