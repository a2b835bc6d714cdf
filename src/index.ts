// Library entry point: re-exports the public API.
export * from './model.js';
export type { RecordRule, RuleHit, RuleMeta } from './rules/types.js';
export type { Scanner, FileScanResult, ScanOptions } from './engine/types.js';
export type { EvidenceFile } from './evidence/file.js';
