// The text scanner runs each dispatched rule's own stages (fieldTest, lineBytes, lineTest; textlog.ts reads them
// from arrays by the rule's index) and runs a stage that several rules share once per line. A rule's match must see
// exactly the lines that hold its needles and pass its own stages: a stage taken from another rule's index, or a
// shared stage run twice, shows here (the stages are necessary conditions, so the shipped rules' findings would not).
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { ReadBuffers } from '../src/evidence/file.js';
import { textLogScanner } from '../src/engine/scanners/textlog.js';
import { iisFormat } from '../src/parsers/iis.js';
import type { FieldTest, RecordRule } from '../src/rules/types.js';

const root = mkdtempSync(join(tmpdir(), 'exhunt-gates-'));
afterAll(() => rmSync(root, { recursive: true, force: true }));

const FIELDS = '#Fields: date time s-ip cs-method cs-uri-stem cs-uri-query s-port cs-username c-ip cs(User-Agent) cs(Referer) sc-status sc-substatus sc-win32-status time-taken';
const line = (method: string, stem: string, query: string) => `2021-03-04 00:00:01 10.1.1.5 ${method} ${stem} ${query} 443 - 198.51.100.7 Mozilla/5.0 - 200 0 0 5`;

describe('rule stages in the text scanner', () => {
  it("hands each rule exactly the lines with its needles that pass its own stages, each shared stage run once a line", async () => {
    const calls = { post: 0, x1: 0, y2: 0, z3: 0 };
    const post: FieldTest = { field: 'cs-method', test: (v) => (calls.post++, v === 'POST') };
    const x1 = (buf: Uint8Array, start: number, end: number) => (calls.x1++, Buffer.from(buf.buffer, buf.byteOffset + start, end - start).includes('x=1'));
    // A RegExp whose test is counted (the scanner calls lineTest.test on the decoded line).
    const counted = (key: 'y2' | 'z3', re: RegExp): RegExp => {
      const r = new RegExp(re.source);
      r.test = (s: string) => (calls[key]++, re.test(s));
      return r;
    };
    const y2 = counted('y2', /y=2/);
    const z3 = counted('z3', /z=3/);
    const seen = new Map<string, number[]>();
    const rule = (id: string, needles: string[], stages: Partial<RecordRule>): RecordRule => {
      seen.set(id, []);
      return {
        id,
        title: id,
        cves: [],
        severity: 'info',
        kind: 'exposure',
        references: [],
        description: '',
        formats: ['iis'],
        needles,
        ...stages,
        match: (rec) => {
          seen.get(id)!.push(rec.line!);
          return null;
        },
      };
    };
    const rules = [
      rule('A', ['/alpha'], { fieldTest: post }),
      rule('B', ['/alpha'], { lineBytes: x1 }),
      rule('C', ['/beta'], { lineTest: y2 }),
      rule('D', ['/alpha', '/beta'], { fieldTest: post, lineBytes: x1, lineTest: z3 }),
      // A rule that places its needles in a field: the scanner then knows the layout, which field tests need.
      rule('E', ['/beta'], { needleFields: ['cs-uri-stem'] }),
      rule('F', ['/alpha'], { lineTest: y2 }),
    ];
    const lines = ['#Software: Microsoft Internet Information Services 10.0', FIELDS];
    // Past the first 50 lines (parsed whatever they hold), every combination of needle, method and query.
    for (let i = 0; i < 60; i++) lines.push(line('GET', '/EWS/Exchange.asmx', '-'));
    const combos: Array<{ method: string; stem: string; query: string }> = [];
    for (const method of ['GET', 'POST'])
      for (const stem of ['/alpha', '/beta', '/alpha/beta', '/gamma'])
        for (let q = 0; q < 8; q++) {
          const query = ['x=1', 'y=2', 'z=3'].filter((_, b) => q & (1 << b)).join('&') || '-';
          combos.push({ method, stem, query });
          lines.push(line(method, stem, query));
        }
    const text = `${lines.join('\r\n')}\r\n`;
    const abs = join(root, 'u_ex210304.log');
    writeFileSync(abs, text);
    const scanner = textLogScanner([iisFormat], rules, { iocs: undefined } as never);
    const file = { kind: 'fs' as const, abs, rel: 'W3SVC1/u_ex210304.log', size: Buffer.byteLength(text), mtimeMs: 0 };
    await scanner.scan(file, 'iis', { since: '2000-01-01', iocFiles: [], yaraRules: null }, undefined as never, { buffers: new ReadBuffers() });

    const first = lines.length - combos.length + 1;
    const want = (id: string, needles: string[], ok: (c: (typeof combos)[number]) => boolean) =>
      combos.flatMap((c, i) => (needles.some((n) => c.stem.includes(n)) && ok(c) ? [first + i] : []));
    const isPost = (c: (typeof combos)[number]) => c.method === 'POST';
    const has = (s: string) => (c: (typeof combos)[number]) => c.query.includes(s);
    expect(seen.get('A')).toEqual(want('A', ['/alpha'], isPost));
    expect(seen.get('B')).toEqual(want('B', ['/alpha'], has('x=1')));
    expect(seen.get('C')).toEqual(want('C', ['/beta'], has('y=2')));
    expect(seen.get('D')).toEqual(want('D', ['/alpha', '/beta'], (c) => isPost(c) && has('x=1')(c) && has('z=3')(c)));
    expect(seen.get('E')).toEqual(want('E', ['/beta'], () => true));
    expect(seen.get('F')).toEqual(want('F', ['/alpha'], has('y=2')));
    // Once a line although rules share them (the scanner remembers the last stage of each kind, as rules of one family
    // come in a row): post (A, D) on the 48 lines with /alpha or /beta; x1 on the 32 /alpha lines (B) and the 8 POST
    // /beta ones (D); y2 on those 48 (C, F), again on the 4 POST x=1 /alpha/beta lines where D's z3 ran between C and
    // F; z3 on the 12 POST x=1 lines (D).
    expect(calls).toEqual({ post: 48, x1: 40, y2: 52, z3: 12 });
  });
});

describe('a field test on a plain field', () => {
  it('is tried on the bytes of ASCII fields without `%` only; any other field goes to the test on its text', async () => {
    const plainSeen: string[] = [];
    const textSeen: string[] = [];
    const stemTest: FieldTest = {
      field: 'cs-uri-stem',
      test: (v) => (textSeen.push(v), v.toLowerCase().endsWith('.aspx')),
      // Rejects every plain stem: the lines that still reach the rule are the others, by their text.
      plain: (b, start, end) => (plainSeen.push(Buffer.from(b.subarray(start, end)).toString('latin1')), false),
    };
    const matched: string[] = [];
    const rule: RecordRule = {
      id: 'P', title: 'P', cves: [], severity: 'info', kind: 'exposure', references: [], description: '', formats: ['iis'],
      needles: ['/shell'], needleFields: ['cs-uri-stem'], fieldTest: stemTest,
      match: (rec) => (matched.push(rec.fields['cs-uri-stem'] ?? ''), null),
    };
    const stems = ['/shell/a.aspx', '/shell/%61.aspx', '/shell/é.aspx', '/SHELL/B.ASPX', '/shell/c.js', '/shell/%63.js'];
    const lines = ['#Software: Microsoft Internet Information Services 10.0', FIELDS];
    for (let i = 0; i < 60; i++) lines.push(line('GET', '/EWS/Exchange.asmx', '-'));
    for (const s of stems) lines.push(line('GET', s, '-'));
    const text = `${lines.join('\r\n')}\r\n`;
    const abs = join(root, 'u_ex210305.log');
    writeFileSync(abs, text);
    const scanner = textLogScanner([iisFormat], [rule], { iocs: undefined } as never);
    const file = { kind: 'fs' as const, abs, rel: 'W3SVC1/u_ex210305.log', size: Buffer.byteLength(text), mtimeMs: 0 };
    await scanner.scan(file, 'iis', { since: '2000-01-01', iocFiles: [], yaraRules: null }, undefined as never, { buffers: new ReadBuffers() });
    expect(plainSeen).toEqual(['/shell/a.aspx', '/SHELL/B.ASPX', '/shell/c.js']);
    expect(textSeen).toEqual(['/shell/%61.aspx', '/shell/é.aspx', '/shell/%63.js']);
    expect(matched).toEqual(['/shell/%61.aspx', '/shell/é.aspx']);
  });
});

describe('finder plans shared between threads', () => {
  it('are posted by the scanner that planned, and taken by one that opens later instead of planning again', async () => {
    const { PlanShare } = await import('../src/engine/scanners/textlog.js');
    const { defaultRuleSet } = await import('../src/rules/ruleset.js');
    type PlanData = Parameters<InstanceType<typeof PlanShare>['post']>[1];
    /** A thread's plan channel that counts the plans it posts of its own (it planned). */
    class Counted extends PlanShare {
      posted: string[] = [];
      override post(key: string, plan: PlanData): void {
        this.posted.push(key);
        super.post(key, plan);
      }
    }
    /** Turns of the event loop until `ready` (messages arrive between turns): no fixed sleep. */
    const until = async (ready: () => boolean) => {
      while (!ready()) await new Promise((r) => setImmediate(r));
    };
    const rs = defaultRuleSet();
    const lines = ['#Software: Microsoft Internet Information Services 10.0', FIELDS];
    for (let i = 0; i < 400; i++) lines.push(line(i % 7 ? 'GET' : 'POST', i % 5 ? '/owa/auth/logon.aspx' : '/ecp/default.aspx', 'x=1'));
    const text = `${lines.join('\r\n')}\r\n`;
    const abs = join(root, 'u_ex210306.log');
    writeFileSync(abs, text);
    const file = { kind: 'fs' as const, abs, rel: 'W3SVC1/u_ex210306.log', size: Buffer.byteLength(text), mtimeMs: 0 };
    const scanWith = async (s: ReturnType<typeof textLogScanner>) =>
      s.scan(file, 'iis', { since: '2000-01-01', iocFiles: [], yaraRules: null }, undefined as never, { buffers: new ReadBuffers() });
    const firstPlans = new Counted().open();
    const first = textLogScanner(rs.formats, rs.recordRules, rs.context, firstPlans);
    const laterPlans = new Counted();
    const later = textLogScanner(rs.formats, rs.recordRules, rs.context, laterPlans);
    try {
      const a = await scanWith(first);
      expect(firstPlans.posted).toHaveLength(1);
      const key = firstPlans.posted[0];
      expect(key.startsWith('iis\n')).toBe(true);
      // A thread that opens after the first planned (a worker that starts later) asks, and is answered.
      laterPlans.open();
      await until(() => laterPlans.take(key) !== undefined);
      const b = await scanWith(later);
      // It planned nothing (it would have posted its own plan), and found the same.
      expect(laterPlans.posted).toEqual([]);
      expect(b.findings).toEqual(a.findings);
      expect(b.coverage).toEqual(a.coverage);
    } finally {
      first.close?.();
      later.close?.();
    }
    // Closed, the first no longer answers an ask: a thread still open does (its answer marks the ask delivered).
    const open = new Counted().open();
    open.post('still open', { needles: 0, single: [], buckets: [] });
    const asker = new Counted().open();
    await until(() => asker.take('still open') !== undefined);
    for (let turn = 0; turn < 20; turn++) await new Promise((r) => setImmediate(r));
    expect(asker.take(firstPlans.posted[0])).toBeUndefined();
    open.close();
    asker.close();
  });
});
