// Exchange configuration saved by the collector (cmdlet output as JSON, registry exports): each setting that a
// configuration control needs becomes a `config` fact; src/rules/config-exposure.ts judges the controls per host.
import type { Fact } from '../../model.js';
import { readAll, type EvidenceFile } from '../../evidence/file.js';
import { decodeByBom } from '../../parsers/text-encoding.js';
import { parseCmdletJson, parseRegExport, prop, propList, type CmdletObject } from '../../parsers/exchange-config.js';
import { parseXml, select, XmlError, type XmlElement } from '../../parsers/xml.js';
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

/**
 * The overrides each server actually loaded: `(Get-ExchangeDiagnosticInfo -Server <name> -Process
 * Microsoft.Exchange.Directory.TopologyService -Component VariantConfiguration -Argument Overrides).Result`, the XML
 * HealthChecker reads (Diagnostics/Components/VariantConfiguration/Overrides/SettingOverride, each with Name,
 * ComponentName, SectionName, Status and Parameters/Parameter), saved by the collector under this name.
 */
const DIAG_OVERRIDES = 'get-exchangediagnosticinfo-overrides.xml';

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
      // Server names carry no spaces; a version range limits the builds the override applies to.
      const servers = propList(o, 'Server').map((n) => n.replace(/\s+/g, '')).join(',');
      const range = ['MinVersion', 'MaxVersion'].map((k) => (prop(o, k) ?? '').trim()).map((v) => (/^\d+(?:\.\d+){1,3}$/.test(v) ? v : ''));
      for (const p of propList(o, 'Parameters')) {
        const eq = p.indexOf('=');
        if (eq > 0) out.push(fact(`override ${where}\\${p.slice(0, eq).trim()}=${p.slice(eq + 1).trim()}${servers ? ` server=${servers}` : ''}${range[0] ? ` min=${range[0]}` : ''}${range[1] ? ` max=${range[1]}` : ''} name=${prop(o, 'Name') ?? ''}`, file, origin));
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

const textOf = (el: XmlElement | undefined): string => el?.text ?? '';

/** One `applied` fact per parameter of each override the server loaded, with its status (only Accepted counts). */
function diagOverrideFacts(root: XmlElement, file: EvidenceFile): Fact[] {
  const origin = 'Get-ExchangeDiagnosticInfo VariantConfiguration Overrides';
  const out: Fact[] = [fact('source diag-overrides', file, origin)];
  const base = root.name === 'Diagnostics' ? root : { ...root, children: [root] };
  for (const o of select(base, ['Components', 'VariantConfiguration', 'Overrides', 'SettingOverride'])) {
    const child = (n: string) => textOf(o.children.find((c) => c.name === n)) || (o.attrs[n] ?? '');
    const where = `${child('ComponentName')}\\${child('SectionName')}`;
    for (const p of select(o, ['Parameters', 'Parameter'])) {
      const t = textOf(p).trim();
      const eq = t.indexOf('=');
      if (eq > 0) out.push({ ...fact(`applied ${where}\\${t.slice(0, eq).trim()}=${t.slice(eq + 1).trim()} status=${child('Status').replace(/\s+/g, '')} name=${child('Name')}`, file, origin), source: { path: file.rel, line: p.line } });
    }
  }
  return out;
}

export const exchangeConfigScanner: Scanner = {
  name: 'exchange-config',
  classify(file) {
    const isReg = /\.reg$/i.test(file.rel);
    const isDiag = (file.rel.split('/').pop() ?? '').toLowerCase() === DIAG_OVERRIDES;
    if (!isReg && !isDiag && cmdletOf(file.rel) === null) return null;
    if (file.size > MAX_BYTES) return { skip: 'configuration export larger than 16 MiB: not parsed' };
    return isReg ? 'registry-export' : isDiag ? 'diag-overrides' : 'cmdlet-json';
  },
  async scan(file, format) {
    const out: FileScanResult = emptyResult();
    const buf = await readAll(file);
    out.bytes = buf.length;
    // PowerShell 5 and `reg export` write UTF-16LE; PowerShell 7 writes UTF-8.
    const text = decodeByBom(buf);
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
    if (format === 'diag-overrides') {
      try {
        out.facts.push(...diagOverrideFacts(parseXml(text), file));
      } catch (err) {
        if (!(err instanceof XmlError)) throw err;
        out.skipped.push({ path: file.rel, reason: `Get-ExchangeDiagnosticInfo output is not XML: ${err.message}` });
      }
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
