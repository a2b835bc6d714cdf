// The four example hosts under examples/evidence, scanned in this thread (the engine correlates each host).
import { scan } from '../../src/engine/scan.js';
import type { ScanReport } from '../../src/model.js';

export const EXAMPLES = ['mail01-compromised', 'mail02-clean', 'mail03-scanned', 'mail04-nologs'].map((h) => `examples/evidence/${h}`);
export const EXPECTED = ['compromised', 'clean', 'attempted', 'insufficient-evidence'];

export async function scanExamples(): Promise<ScanReport> {
  return scan({ paths: EXAMPLES, jobs: 1 });
}
