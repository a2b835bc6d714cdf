import type { ScanReport } from '../model.js';

/** The `--json` document (schema `exhunt.scan/1`, see schema/exhunt.scan-1.schema.json). */
export function renderJson(report: ScanReport): string {
  return `${JSON.stringify(report, null, 2)}\n`;
}
