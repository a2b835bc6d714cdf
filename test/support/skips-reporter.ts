// Prints why tests were skipped, one line per reason, before vitest's summary: a skip must say why (a sample
// not vendored and ../shared absent, no YARA engine...). A skip without a reason is listed as such.
import type { Reporter, TestCase } from 'vitest/node';

export default class SkipsReporter implements Reporter {
  private readonly reasons = new Map<string, string[]>();

  onTestCaseResult(test: TestCase): void {
    const r = test.result();
    // Only skips decided while running (ctx.skip); a filtered-out (-t) or it.skip test is not one.
    if (r.state !== 'skipped' || test.options.mode !== 'run') return;
    const why = r.note ?? 'NO REASON GIVEN';
    const names = this.reasons.get(why) ?? [];
    names.push(test.fullName);
    this.reasons.set(why, names);
  }

  onTestRunEnd(): void {
    if (this.reasons.size === 0) return;
    const total = [...this.reasons.values()].reduce((n, v) => n + v.length, 0);
    const lines = [...this.reasons].map(([why, names]) => `  ${String(names.length).padStart(3)} × ${why}${why === 'NO REASON GIVEN' ? `: ${names.join('; ')}` : ''}`);
    process.stdout.write(`\nSkipped ${total} tests, by reason:\n${lines.join('\n')}\n`);
  }
}
