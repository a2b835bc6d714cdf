// Library front door: what the CLI uses, for programs that embed exhunt (docs/writing-rules.md and the README use
// these names). Data flows evidence -> records -> findings -> host verdict -> reports.
export * from './model.js';
export { findingStage, laneOfFormat, fileKey, normalizeIp } from './semantics.js';

// Scanning
export { scan, scanOptions, DEFAULT_SINCE, type ScanRequest, type Progress } from './engine/scan.js';
export type { Scanner, FileScanResult, ScanOptions } from './engine/types.js';
export type { EvidenceFile } from './evidence/file.js';

// Rules
export { buildRuleSet, defaultRuleSet, RECORD_RULES, TEXT_FORMATS, type RuleSet, type RuleSetInput } from './rules/ruleset.js';
export { builtinIocs, IocFileError, parseIocFiles, type IocStore } from './rules/iocs.js';
export { loadIocs } from './engine/registry.js';
export type { RecordRule, RuleContext, RuleHit, RuleMeta } from './rules/types.js';
export type { HostRule, HostContext } from './rules/host.js';
export { catalogRules, rulesCatalog } from './report/rules-catalog.js';
export { sigmaRules, toSigma, defaultMapping as defaultSigmaMapping, type SigmaMapping } from './rules/sigma.js';
export { ruleCredits } from './rules/references.js';

// Reports
export { renderJson } from './report/json.js';
export { renderHtml } from './report/html.js';
export { renderNdjson } from './report/ndjson.js';
export { renderTerminal } from './report/terminal.js';
export { writeCsv, findingsCsv } from './report/csv.js';
export { renderStix } from './report/stix.js';
export { renderTimesketch } from './report/timesketch.js';
export { nextSteps, type NextStep } from './report/next-steps.js';

// Builds, remote checks, mitigations
export * from './builds/index.js';
export * from './remote/index.js';
export { render as renderMitigation, FORMATS as MITIGATION_FORMATS, type Plan as MitigationPlan } from './mitigations/generate.js';

// Collection and verification
export { collect, type CollectOptions, type CollectResult } from './response/collect.js';
export { verifyCase, type VerifyResult } from './response/verify.js';
