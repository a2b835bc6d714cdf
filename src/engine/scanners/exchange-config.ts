// Exchange configuration saved by the collector (cmdlet output as JSON, registry exports): each setting that a
// configuration control needs becomes a `config` fact; src/rules/config-exposure.ts judges the controls per host.
import type { Fact } from '../../model.js';
import { readAll, type EvidenceFile } from '../../evidence/file.js';
import { decodeText, parseCmdletJson, parseRegExport, prop, propList, type CmdletObject } from '../../parsers/exchange-config.js';
import { emptyResult, type FileScanResult, type Scanner } from '../types.js';

const MAX_BYTES = 16 * 1024 * 1024;

/** Cmdlet output files the collector writes (collector/Collect-ExchangeEvidence.ps1, `exchange/` folder). */
const CMDLETS = ['get-settingoverride', 'get-organizationconfig', 'get-exchangeserver', 'get-authserver', 'get-owavirtualdirectory', 'get-hybridconfiguration'] as const;
type Cmdlet = (typeof CMDLETS)[number];

/** Registry values the controls read (reference security-updates.md §4). */
const REG_VALUES = [
  'HKEY_LOCAL_MACHINE\\SYSTEM\\CurrentControlSet\\Control\\Lsa\\SuppressExtendedProtection',
  'HKEY_LOCAL_MACHINE\\SOFTWARE\\Microsoft\\ExchangeServer\\v15\\Diagnostics\\EnableSerializationDataSigning',
  'HKEY_LOCAL_MACHINE\\SOFTWARE\\Microsoft\\ExchangeServer\\v15\\Diagnostics\\DisableBaseTypeCheckForDeserialization',
].map((s) => s.toLowerCase());

function cmdletOf(rel: string): Cmdlet | null {
  const base = (rel.split('/').pop() ?? '').toLowerCase().replace(/\.json$/, '');
  return (CMDLETS as readonly string[]).includes(base) ? (base as Cmdlet) : null;
}

function fact(value: string, file: EvidenceFile, origin: string, line?: number): Fact {
  return { kind: 'config', value, source: line === undefined ? { path: file.rel } : { path: file.rel, line }, time: null, origin };
}

const host = (url: string | null): string => {
  if (!url) return '';
  try {
    return new URL(url).hostname.toLowerCase();
  } catch {
    return '';
  }
};

function cmdletFacts(cmdlet: Cmdlet, objects: CmdletObject[], file: EvidenceFile): Fact[] {
  const origin = cmdlet.replace(/^get-/, 'Get-').replace(/(?<=-)[a-z]/, (c) => c.toUpperCase());
  const out: Fact[] = [fact(`source ${cmdlet}`, file, origin)];
  for (const o of objects) {
    if (cmdlet === 'get-settingoverride') {
      const where = `${prop(o, 'Component') ?? ''}\\${prop(o, 'Section') ?? ''}`;
      const servers = propList(o, 'Server').join(' ');
      for (const p of propList(o, 'Parameters')) {
        const eq = p.indexOf('=');
        if (eq > 0) out.push(fact(`override ${where}\\${p.slice(0, eq).trim()}=${p.slice(eq + 1).trim()}${servers ? ` server=${servers}` : ''} name=${prop(o, 'Name') ?? ''}`, file, origin));
      }
    } else if (cmdlet === 'get-organizationconfig') {
      for (const k of ['MitigationsEnabled', 'EnableDownloadDomains']) out.push(fact(`org ${k}=${prop(o, k) ?? ''}`, file, origin));
    } else if (cmdlet === 'get-exchangeserver') {
      // AdminDisplayVersion names the CU only (the SU level is in ExSetup.exe's file version).
      const adv = prop(o, 'AdminDisplayVersion');
      if (adv) out.push({ kind: 'build', value: adv, source: { path: file.rel }, time: null, origin: 'Get-ExchangeServer AdminDisplayVersion' });
      for (const k of ['MitigationsEnabled', 'MitigationsApplied', 'MitigationsBlocked']) out.push(fact(`server ${prop(o, 'Name') ?? ''} ${k}=${prop(o, k) ?? ''}`, file, origin));
    } else if (cmdlet === 'get-authserver') {
      out.push(fact(`authserver type=${prop(o, 'Type') ?? ''} enabled=${prop(o, 'Enabled') ?? ''} appid=${prop(o, 'ApplicationIdentifier') ?? ''}`, file, origin));
    } else if (cmdlet === 'get-owavirtualdirectory') {
      const name = prop(o, 'Name') ?? '';
      if (!/default web site/i.test(name)) continue;
      out.push(fact(`owa external-download=${(prop(o, 'ExternalDownloadHostName') ?? '').toLowerCase()} internal-download=${(prop(o, 'InternalDownloadHostName') ?? '').toLowerCase()} external=${host(prop(o, 'ExternalUrl'))} internal=${host(prop(o, 'InternalUrl'))}`, file, origin));
    } else if (cmdlet === 'get-hybridconfiguration') {
      out.push(fact('hybrid configured', file, origin));
    }
  }
  return out;
}

export const exchangeConfigScanner: Scanner = {
  name: 'exchange-config',
  classify(file) {
    const isReg = /\.reg$/i.test(file.rel);
    if (!isReg && cmdletOf(file.rel) === null) return null;
    if (file.size > MAX_BYTES) return { skip: 'configuration export larger than 16 MiB: not parsed' };
    return isReg ? 'registry-export' : 'cmdlet-json';
  },
  async scan(file, format) {
    const out: FileScanResult = emptyResult();
    const buf = await readAll(file);
    out.bytes = buf.length;
    const text = decodeText(buf);
    if (format === 'registry-export') {
      if (!/^Windows Registry Editor Version 5\.00|^REGEDIT4/.test(text)) {
        out.skipped.push({ path: file.rel, reason: 'named .reg but not a registry export (no "Windows Registry Editor" header)' });
        return out;
      }
      for (const v of parseRegExport(text)) {
        const full = `${v.key}\\${v.name}`;
        if (REG_VALUES.includes(full.toLowerCase())) out.facts.push(fact(`reg ${v.name}=${v.value}`, file, 'registry export', v.line));
      }
      out.facts.push(fact('source registry', file, 'registry export'));
      return out;
    }
    try {
      out.facts.push(...cmdletFacts(cmdletOf(file.rel)!, parseCmdletJson(text), file));
    } catch (err) {
      if (!(err instanceof SyntaxError)) throw err;
      out.skipped.push({ path: file.rel, reason: `cmdlet output is not JSON (the collector writes ConvertTo-Json): ${err.message}` });
    }
    return out;
  },
};
