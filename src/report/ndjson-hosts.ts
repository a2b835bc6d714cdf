// One verdict document per host (ECS `event.kind: state`), written after the findings with `--ndjson-hosts`: a
// fleet engine (a Velociraptor hunt, an Elastic index) then holds a row for every host, clean ones included.
import type { ScanReport, ToolInfo } from '../model.js';
import { coverageSpan, hostDigest, type HostDigest } from './summary.js';

export function renderHostVerdicts(report: ScanReport): string {
  return hostVerdictLines(report.tool, report.hosts.map(hostDigest));
}

/** The verdict lines from the hosts' digests (a streamed scan keeps only those). */
export function hostVerdictLines(tool: ToolInfo, digests: readonly HostDigest[]): string {
  return digests
    .map((h) => {
      const span = coverageSpan(h.coverage);
      const doc = {
        '@timestamp': tool.finished,
        ecs: { version: '8.11.0' },
        event: { kind: 'state', category: ['host'], type: ['info'], dataset: 'exhunt.verdict', module: 'exhunt', provider: 'exhunt', created: tool.finished },
        message: `${h.label ?? h.name}: ${h.verdict}${h.reasons.length ? ` — ${h.reasons[0]}` : ''}`,
        host: { name: h.name },
        tags: ['exhunt', 'verdict', h.verdict],
        exhunt: {
          host_label: h.label ?? h.name,
          host_verdict: h.verdict,
          host_stage: h.stage,
          reasons: h.reasons,
          findings: h.findings,
          logs_first: span.first,
          logs_last: span.last,
          skipped: h.skipped,
          since: tool.options.since,
        },
      };
      return `${JSON.stringify(doc)}\n`;
    })
    .join('');
}
