// One event read twice. KAPE output often holds both the .evtx (a target copy) and EvtxECmd's export of it (the
// module's CSV or JSON): its findings would be counted twice. Findings from EvtxECmd output are held back until the
// host's files are all read; one whose rule, event record id and time (UTC, to the 100 ns) match a finding from an
// event log read as such (.evtx, XML export) is dropped, and the report says how many were. The .evtx's finding is
// the one kept: it has the whole event.
import type { RawFinding, Skipped } from '../model.js';
import type { CollapsedKind } from './group.js';

/** The EvtxECmd scan marks its findings with this evidence (engine/scanners/evtx.ts). */
const fromEcmd = (f: RawFinding): boolean => f.evidence.evtxecmd_source_file !== undefined;

const key = (f: RawFinding, record: unknown): string => `${f.rule}\u0000${f.time ?? ''}\u0000${String(record)}`;

export class EcmdDuplicates {
  /** Findings of event logs read as such, by rule, time and record. */
  private readonly seen = new Set<string>();
  /** Rules some event log's findings of which were collapsed into a group (their records are not all known). */
  private readonly collapsed = new Set<string>();
  private readonly held: RawFinding[] = [];
  private readonly heldGroups: CollapsedKind[] = [];

  /** True when the finding is held back (it came from EvtxECmd output); others are remembered and go on. */
  hold(f: RawFinding): boolean {
    if (fromEcmd(f)) {
      this.held.push(f);
      return true;
    }
    if (f.lane === 'Event logs' && f.source.record !== undefined) this.seen.add(key(f, f.source.record));
    return false;
  }

  /** As `hold`, for a kind a file's scan collapsed. */
  holdGroup(g: CollapsedKind): boolean {
    const head = g.first[0];
    if (fromEcmd(head)) {
      this.heldGroups.push(g);
      return true;
    }
    if (head.lane === 'Event logs') this.collapsed.add(head.rule);
    return false;
  }

  /** The held findings that are no duplicates, the held groups, and one line per export saying what was dropped. */
  release(): { findings: RawFinding[]; groups: CollapsedKind[]; notes: Skipped[] } {
    const dropped = new Map<string, number>();
    const unsure = new Map<string, Set<string>>();
    const findings: RawFinding[] = [];
    for (const f of this.held) {
      if (this.seen.has(key(f, f.evidence.event_record_id))) dropped.set(f.source.path, (dropped.get(f.source.path) ?? 0) + 1);
      else {
        findings.push(f);
        if (this.collapsed.has(f.rule)) unsure.set(f.source.path, (unsure.get(f.source.path) ?? new Set()).add(f.rule));
      }
    }
    for (const g of this.heldGroups) {
      const head = g.first[0];
      if (this.seen.size || this.collapsed.size) unsure.set(head.source.path, (unsure.get(head.source.path) ?? new Set()).add(head.rule));
    }
    const notes: Skipped[] = [];
    for (const [path, n] of dropped) notes.push({ path, reason: `${n} finding(s) from this EvtxECmd output are the same events as findings from the .evtx scanned (same rule, event record id and time): reported once, from the .evtx` });
    for (const [path, rules] of unsure) notes.push({ path, reason: `findings of ${[...rules].sort().join(', ')} from this EvtxECmd output were too many to match one by one against the .evtx scanned: some may be the same events counted twice` });
    return { findings, groups: this.heldGroups, notes };
  }
}
