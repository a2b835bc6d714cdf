// adLineBytes (src/rules/iis.ts): the autodiscover.json rules' check on a line's bytes before it is decoded. It must
// be a necessary condition of their line test AD_LINE (whenever AD_LINE matches, it passes), on random lines built
// from AD_LINE's own pieces in every case and escaping, on the attack variants and on real lines; and it must
// reject Outlook's own lookups, or it saves nothing.
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { adLineBytes, adWalk, IIS_RULES } from '../src/rules/iis.js';
import { needExternal } from './support/external.js';
import { rng } from './support/rng.js';

const AD_LINE = IIS_RULES.find((r) => r.id === 'PS-01')!.lineTest!;
const bytesOf = (line: string): boolean => {
  const b = Buffer.from(line, 'utf8');
  // Inside a larger buffer, as the text scanner calls it: bytes around the line must not count.
  const framed = Buffer.concat([Buffer.from('@x/ %40ews\n'), b, Buffer.from('\n/ews @a/')]);
  const inFrame = adLineBytes(framed, 11, 11 + b.length);
  expect(adLineBytes(b, 0, b.length)).toBe(inFrame);
  return inFrame;
};

/** Every alternative's text, written plainly (the generator escapes and re-cases it). */
const PIECES = ['x-rps-cat', '/powershell', '/mapi/nspi', '/mapi/emsmdb', '/ews', 'email=autodiscover', '&email', '?@', ' @', '@evil.corp/', '@a:444/', '/autodiscover.json x=a', '/autodiscover/admin@localhost/', 'é'];
const FILLER = ['a', 'e', 'E', 'x', 'X', 'm', '/', '@', '?', ' ', '&', '=', '.', ':', '-', '%', '%4', '%40', '%3f', '%3F', '%2f', '%2F', '%65', '%6', '%e', '%E9', '%7f', '%20', '%25', '0', 'f', 'ail', 'mail', 'ews', 'json', '+'];

/** `text` with each character maybe upper-cased, maybe escaped (by its own code, upper- or lower-case hex). */
function mangle(r: () => number, text: string): string {
  let out = '';
  for (const c of text) {
    const x = r();
    if (x < 0.2 && c.charCodeAt(0) < 0x80) {
      const hex = c.charCodeAt(0).toString(16).padStart(2, '0');
      out += `%${r() < 0.5 ? hex : hex.toUpperCase()}`;
    } else if (x < 0.25 && c.charCodeAt(0) < 0x80) out += `%${c.toUpperCase().charCodeAt(0).toString(16)}`;
    else out += x < 0.5 ? c.toUpperCase() : c;
  }
  return out;
}

/** A line of filler with, most of the time, a piece of an alternative (whole, or cut short) somewhere in it. */
function randomLine(r: () => number): string {
  const parts: string[] = [];
  const n = 1 + Math.floor(r() * 12);
  for (let k = 0; k < n; k++) {
    if (r() < 0.25) {
      const p = PIECES[Math.floor(r() * PIECES.length)];
      const cut = r() < 0.3 ? p.slice(0, Math.max(1, Math.floor(r() * p.length))) : p;
      parts.push(mangle(r, cut));
    } else parts.push(FILLER[Math.floor(r() * FILLER.length)]);
  }
  return parts.join('');
}

describe('adLineBytes (AD_LINE on bytes, before decoding)', () => {
  it('passes every random line AD_LINE matches, built from its own pieces in any case and escaping', () => {
    const r = rng(4242);
    let matched = 0;
    let rejected = 0;
    for (let k = 0; k < 60_000; k++) {
      const line = randomLine(r);
      const re = AD_LINE.test(line);
      const by = bytesOf(line);
      if (re) {
        matched++;
        expect(by, line).toBe(true);
      } else if (!by) rejected++;
    }
    // Both sides are exercised: many lines match, and most of the others are rejected (the point of the check).
    expect(matched).toBeGreaterThan(5000);
    expect(rejected).toBeGreaterThan(10_000);
  });

  it('catches each alternative alone, at the edges of the line and escaped', () => {
    const must = [
      'x-rps-cat', 'X-Rps-CAT', '%78-rps-cat', 'x%2drps%2dcat', '/PowerShell', '%2fpowershell', '/mapi/nspi', '/MAPI%2fEMSMDB', '/ews', '%2F%65ws',
      'Email=Autodiscover', '%65mail=autodiscover', '%6email=autodiscover', '%E%6dail=autodiscover', '&email', '%26email', 'a?@', '%3f@', '%3F%40', ' @',
      '@host/', '%40host/', '@h%2f', '@%2f%2f', '@a%41b/', '@evil.corp:444/', '/autodiscover.json x=a', '/AutoDiscover.JSON X=A', 'admin@localhost/', 'é', '%e9', '%80',
    ];
    for (const line of must) {
      expect(AD_LINE.test(line), line).toBe(true);
      expect(bytesOf(line), line).toBe(true);
    }
  });

  it('reads nothing past the end of the line (the next bytes would complete an alternative)', () => {
    for (const whole of ['x-rps-cat', '/ews', '/mapi/nspi', '@host/', '@h%2f', 'a?@', '&email', '%65mail=autodiscover', '/autodiscover.json x=a']) {
      const buf = Buffer.from(whole, 'latin1');
      const cut = whole.slice(0, -1);
      expect(AD_LINE.test(cut), cut).toBe(false);
      expect(adLineBytes(buf, 0, buf.length - 1), cut).toBe(false);
      expect(adLineBytes(buf, 0, buf.length), whole).toBe(true);
    }
  });

  it("rejects Outlook's own autodiscover.json lookups (mobile and desktop), so they are not decoded", () => {
    const benign = [
      '2021-03-04 00:00:01 10.1.1.5 GET /autodiscover/autodiscover.json/v1.0/user4193@example.org Protocol=Ews&RedirectCount=1&CorrelationID=<empty>;&cafeReqId=79e99b34-f210-40d8-8bc5-52e89b439b62;&encoding=; 443 - 203.0.113.61 Outlook-iOS/723.4027091.prod.iphone+(4.2305.0) - 200 0 0 31',
      '2021-03-04 00:00:01 10.1.1.5 GET /autodiscover/autodiscover.json Email=user4193%40example.org&Protocol=AutodiscoverV1&RedirectCount=1 443 CORP\\user4193 198.51.100.7 Microsoft+Office/16.0 - 200 0 0 15',
      '2021-03-03 00:00:05 10.1.1.5 GET /autodiscover/autodiscover.json Email=user9553%40example.org&Protocol=AutodiscoverV1&RedirectCount=1&CorrelationID=<empty>;&cafeReqId=5f64aebc-953d-4de4-abe9-2d0a019b11f1;&encoding=; 443 - 203.0.113.198 Microsoft+Office/16.0+(Windows+NT+10.0;+Microsoft+Outlook+16.0.14714;+Pro) - 200 0 0 15',
    ];
    for (const line of benign) {
      expect(AD_LINE.test(line), line).toBe(false);
      expect(bytesOf(line), line).toBe(false);
    }
  });

  it("gives the walk over every byte's answer where the SIMD pair filter picks the steps (every pair, random lines)", () => {
    const both = (b: Buffer, start: number, end: number) => {
      expect(adLineBytes(b, start, end), JSON.stringify(b.toString('latin1', start, end))).toBe(adWalk(b, start, end));
    };
    // Every byte pair, alone (the second at the line's end) and before an `@`, `/` or `%` (inside a larger buffer).
    for (let c = 0; c < 256; c++) {
      for (let n = 0; n < 256; n++) {
        const b = Buffer.from([47, c, n, 64, 47, 37, 101]);
        both(b, 1, 3);
        both(b, 1, 7);
      }
    }
    const r = rng(777);
    let passed = 0;
    for (let k = 0; k < 20_000; k++) {
      const b = Buffer.from(`@${randomLine(r)}/`, 'utf8');
      both(b, 1, b.length - 1);
      if (adWalk(b, 1, b.length - 1)) passed++;
    }
    expect(passed).toBeGreaterThan(1000);
  });

  it('stays linear on hostile runs of @ and escapes', () => {
    for (const unit of ['@', '%40', '@a', '%40a%41', '%%', '%e', '/', '&']) {
      const line = unit.repeat(200_000 / unit.length);
      const t = AD_LINE.test(line);
      if (t) expect(bytesOf(line)).toBe(true);
      else bytesOf(line);
    }
  });

  it('passes every real line AD_LINE matches (HelseCERT, Tunna, hamad-she)', (ctx) => {
    const files = [
      'helsecert-2021-march-exchange/extracted/iis_W3SVC1_u_ex21030x_webshell_RedirSuiteServerProxy_access.log',
      'EVTX-ATTACK-SAMPLES/Command_and_Control/Tunna_rdp_tunnel_IIS.log',
      'hamad-she-proxyshell-writeup/iis_proxyshell_lines_as_published.log',
    ].map((rel) => needExternal(ctx, rel));
    let matched = 0;
    for (const f of files) {
      for (const line of readFileSync(f, 'utf8').split(/\r?\n/)) {
        if (!AD_LINE.test(line)) continue;
        matched++;
        expect(bytesOf(line), line).toBe(true);
      }
    }
    expect(matched).toBeGreaterThan(0);
  });
});
