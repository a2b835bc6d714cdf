// The DLL files behind applicationHost.config's globalModules, when the evidence holds them: their file version and
// who signed them become `config` facts for the EXP-IISMOD and EXP-TOKEN controls. Only the few images the
// configuration names are read (not every DLL of a disk copy), after the per-file scan, with the host's file list.
import type { Fact } from '../model.js';
import { readAll, type EvidenceFile } from '../evidence/file.js';
import { peAnyFileVersion, peSignature } from '../parsers/pe.js';
import { authenticodeSigner, isMicrosoftSubject } from '../parsers/authenticode.js';
import { locateWindowsPath } from './locate.js';

/** IIS module images are small; anything larger is not read (named in the fact instead). */
const MAX_IMAGE = 64 * 1024 * 1024;

/** Expands the environment variables applicationHost.config uses in module images, as on a default install. */
export function expandImagePath(image: string): string {
  return image
    .replace(/%(?:windir|systemroot)%/gi, 'C:\\Windows')
    .replace(/%programfiles%/gi, 'C:\\Program Files')
    .replace(/%exchangeinstallpath%\\?/gi, 'C:\\Program Files\\Microsoft\\Exchange Server\\V15\\');
}

/**
 * Signature states: `microsoft` (signer subject is Microsoft's and its issuer certificate in the signature verifies
 * it), `microsoft-subject-only` (Microsoft's subject but self-signed or no issuer in the blob: a forgery looks like
 * this), `other` (another signer), `unsigned`, `not-pe`.
 */
async function imageFact(name: string, file: EvidenceFile): Promise<Fact> {
  let fields: string;
  if (file.size > MAX_IMAGE) fields = 'version=|signature=unknown|signer=larger than 64 MiB, not read';
  else {
    const buf = await readAll(file);
    const sig = peSignature(buf);
    const version = peAnyFileVersion(buf) ?? '';
    if (sig === null) fields = `version=${version}|signature=not-pe|signer=`;
    else if (sig === 'unsigned') fields = `version=${version}|signature=unsigned|signer=`;
    else {
      const signer = authenticodeSigner(sig);
      const state = !signer ? 'unreadable' : isMicrosoftSubject(signer.subject) ? (signer.issuerInBlob && isMicrosoftSubject(signer.issuer) ? 'microsoft' : 'microsoft-subject-only') : 'other';
      fields = `version=${version}|signature=${state}|signer=${signer ? `${signer.subject} (issuer ${signer.issuer})` : ''}`;
    }
  }
  return { kind: 'config', value: `iismodule-image ${name}|${file.rel}|${fields}`, source: { path: file.rel }, time: null, origin: 'IIS module image' };
}

/** One `iismodule-image` fact per globalModules entry whose DLL is in the evidence. */
export async function moduleImageFacts(facts: readonly Fact[], files: readonly EvidenceFile[]): Promise<Fact[]> {
  const out: Fact[] = [];
  for (const f of facts) {
    if (f.kind !== 'config' || !f.value.startsWith('iismodule ')) continue;
    const [name, image] = f.value.slice(10).split('|');
    if (!image) continue;
    const file = locateWindowsPath(expandImagePath(image), files);
    // The match must end in the DLL's own name: a shared folder suffix alone is not the module.
    if (file && file.rel.toLowerCase().endsWith(image.split(/[\\/]/).pop()!.toLowerCase())) out.push(await imageFact(name, file));
  }
  return out;
}
