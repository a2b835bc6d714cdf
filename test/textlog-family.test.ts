// Formats that share one classification (Exchange's CSV logs) are asked once per file by the text scanner, and
// each reads exactly the files that classification names for it — as `detect` alone decides.
import { describe, expect, it } from 'vitest';
import { textLogScanner } from '../src/engine/scanners/textlog.js';
import { TEXT_FORMATS, defaultRuleSet } from '../src/rules/ruleset.js';

const file = (rel: string) => ({ kind: 'fs' as const, abs: `/nowhere/${rel}`, rel, size: 1, mtimeMs: 0 });
const HEADS: Array<[string, string]> = [
  ['#Software: Microsoft Exchange Server\r\n#Log-type: HttpProxy Logs\r\n#Fields: DateTime,RequestId,UrlStem,AnchorMailbox\r\n', 'a/HttpProxy_2021030306-1.LOG'],
  ['#Software: Microsoft Exchange Server\r\n#Log-type: ECP Server Log\r\n', 'x.LOG'],
  ['DateTime,RequestId,UrlStem,AnchorMailbox\r\n2021-03-03T00:00:00Z,a,/owa/,x\r\n', 'copy.csv'],
  ['"TimeStamp","EventData"\n', 'ecp.csv'],
  ['whatever\n', 'V15/Logging/OABGeneratorLog/oab.log'],
  ['#Software: Microsoft Internet Information Services 10.0\r\n#Fields: date time cs-uri-stem\r\n', 'W3SVC1/u_ex210303.log'],
  ['var anchorMailbox = eventData(urlStem, dateTime);\n', 'owa/scripts/boot.js'],
];

describe('text log formats that share a classification', () => {
  it('ask it once per file and claim what detect claims', () => {
    const rules = defaultRuleSet();
    const family = TEXT_FORMATS.find((f) => f.family)?.family;
    expect(family).toBeDefined();
    let calls = 0;
    const counted = (head: string, rel: string) => {
      calls++;
      return family!(head, rel);
    };
    const formats = TEXT_FORMATS.map((f) => (f.family === family ? { ...f, family: counted } : f));
    expect(formats.filter((f) => f.family === counted).length).toBeGreaterThan(3);
    const scanner = textLogScanner(formats, [], rules.context);
    const claims: unknown[] = [];
    for (const [head, rel] of HEADS) {
      calls = 0;
      const claim = scanner.classify(file(rel), Buffer.from(head));
      expect(calls, rel).toBeLessThanOrEqual(1);
      const byDetect = TEXT_FORMATS.find((f) => f.detect(head, rel) === true)?.id ?? null;
      expect(claim, rel).toBe(byDetect);
      claims.push(claim);
    }
    expect(claims).toEqual(['httpproxy', 'ecp-server', 'httpproxy', 'ecp-server', 'oabgen', 'iis', null]);
  });
});
