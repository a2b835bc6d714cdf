// One line naming the rules a finding's detection was adapted from and their authors, as the Detection Rule License
// asks every match to keep: "Florian Roth (Nextron Systems): SigmaHQ 67bce556-… (DRL-1.1 <url>)". CSV and HTML share it.
import type { Finding } from '../model.js';

export function creditLine(f: Pick<Finding, 'credits'>): string {
  return (f.credits ?? []).map((c) => `${c.author}: ${c.project} ${c.rule} (${c.license} ${c.license_url})`).join('; ');
}
