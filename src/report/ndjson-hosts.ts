// One verdict document per host (ECS `event.kind: state`), written after the findings with `--ndjson-hosts`: a
// fleet engine (a Velociraptor hunt, an Elastic index) then holds a row for every host, clean ones included.
import type { ScanReport } from '../model.js';
import { coverageSpan } from './summary.js';

export function renderHostVerdicts(report: ScanReport): string {
  return report.hosts
    .map((h) => {
      const span = coverageSpan(h.coverage);
      const doc = {
        '@timestamp': report.tool.finished,
        ecs: { version: '8.11.0' },
        event: { kind: 'state', category: ['host'], type: ['info'], dataset: 'exhunt.verdict', module: 'exhunt', provider: 'exhunt', created: report.tool.finished },
        message: `${h.label ?? h.name}: ${h.verdict}${h.reasons.length ? ` — ${h.reasons[0]}` : ''}`,
        host: { name: h.name },
        tags: ['exhunt', 'verdict', h.verdict],
        exhunt: {
          host_label: h.label ?? h.name,
          host_verdict: h.verdict,
          host_stage: h.stage,
          reasons: h.reasons,
          findings: h.findings.length,
          logs_first: span.first,
          logs_last: span.last,
          skipped: h.skipped.length,
          since: report.tool.options.since,
        },
      };
      return `${JSON.stringify(doc)}\n`;
    })
    .join('');
}
