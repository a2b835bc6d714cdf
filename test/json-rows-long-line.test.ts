// Event logs as JSON Lines: a line over the 4 MiB bound is reported once and passed over to its line feed; the
// lines after it keep their numbers and offsets (review7: it was reported once per read block, each fragment counted
// as a line, and every later event numbered too far).
import { describe, expect, it } from 'vitest';
import type { EvtxEvent, EvtxProblem } from '../src/parsers/evtx/index.js';
import { readJsonRowsStream } from '../src/parsers/evtx/index.js';

const event = (record: number) =>
  JSON.stringify({ Event: { System: { Provider: { '@Name': 'MSExchange CmdletLogs' }, EventID: 1, EventRecordID: record, Channel: 'MSExchange Management', Computer: 'MAIL01', TimeCreated: { '@SystemTime': '2021-08-14T13:20:53.0000000Z' } }, EventData: { Data: ['Get-Mailbox', '-Identity a'] } } });

async function read(buf: Buffer, size: number) {
  async function* blocks() {
    for (let i = 0; i < buf.length; i += size) yield buf.subarray(i, i + size);
  }
  const problems: EvtxProblem[] = [];
  const events: EvtxEvent[] = [];
  for await (const batch of readJsonRowsStream(blocks(), problems)) events.push(...batch);
  return { events, problems };
}

describe('a JSON line over 4 MiB', () => {
  it('is reported once; the events after it keep their lines and offsets', async () => {
    const long = `{"x":"${'a'.repeat(15 * 1024 * 1024)}"}`;
    const lines = [event(1), long, event(3), long, event(5)];
    const buf = Buffer.from(`${lines.join('\n')}\n`);
    const offsets = lines.map((_, i) => lines.slice(0, i).reduce((s, l) => s + Buffer.byteLength(l) + 1, 0));
    for (const size of [1024 * 1024, 3 * 1024 * 1024 + 5, 6 * 1024 * 1024]) {
      const { events, problems } = await read(buf, size);
      expect(events.map((e) => [e.line, e.offset, e.system.EventRecordID])).toEqual([1, 3, 5].map((n) => [n, offsets[n - 1], String(n)]));
      expect(problems.map((p) => p.reason)).toEqual(['JSON line 2 longer than 4 MiB, skipped', 'JSON line 4 longer than 4 MiB, skipped']);
    }
    // The last line, without a line feed after it.
    const { events, problems } = await read(Buffer.from([event(1), long].join('\n')), 1024 * 1024);
    expect(events.map((e) => e.line)).toEqual([1]);
    expect(problems.map((p) => p.reason)).toEqual(['JSON line 2 longer than 4 MiB, skipped']);
  });
});
