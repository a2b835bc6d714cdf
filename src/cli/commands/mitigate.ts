import { Option, type Command } from 'commander';
import { examples } from '../help.js';
import { UsageError } from '../errors.js';
import { FORMATS, render, type Format, type Plan } from '../../mitigations/generate.js';
import { PROXYLOGON_EOMT, PROXYNOTSHELL_URLREWRITE } from '../../mitigations/catalogue.js';
import { serviceMitigation } from '../../mitigations/services.js';

interface MitigateOptions {
  proxylogon?: boolean;
  proxynotshell?: boolean;
  um?: boolean;
  ecpApppool?: boolean;
  oabApppool?: boolean;
  owaCsp?: boolean;
  format: Format;
  rollback?: boolean;
}

/** With no selection, only the two URL Rewrite rules: the service mitigations switch features off, and --owa-csp is asked for by name. */
export function planFromOptions(o: MitigateOptions): Plan {
  const anyService = Boolean(o.um || o.ecpApppool || o.oabApppool);
  const anyRule = Boolean(o.proxylogon || o.proxynotshell);
  const defaults = !anyService && !anyRule && !o.owaCsp;
  return {
    urlRewrite: [
      ...(o.proxylogon || defaults ? [PROXYLOGON_EOMT] : []),
      ...(o.proxynotshell || defaults ? [PROXYNOTSHELL_URLREWRITE] : []),
    ],
    services: [
      ...(o.um ? [serviceMitigation('um')] : []),
      ...(o.ecpApppool ? [serviceMitigation('ecp-apppool')] : []),
      ...(o.oabApppool ? [serviceMitigation('oab-apppool')] : []),
    ],
    owaCsp: Boolean(o.owaCsp),
    rollback: Boolean(o.rollback),
  };
}

export function registerMitigate(program: Command): void {
  program
    .command('mitigate')
    .addHelpText('after', examples([
      'exhunt mitigate --proxynotshell > mitigate.ps1',
      'exhunt mitigate --proxylogon --um --format appcmd',
      'exhunt mitigate --proxylogon --proxynotshell --rollback > rollback.ps1',
    ]))
    .description(
      "print Microsoft's interim Exchange mitigations (URL Rewrite rules, UM services, ECP/OAB app pools) with rollback; " +
        'stop-gaps only: patching is the fix',
    )
    .option('--proxylogon', 'EOMT backend-cookie URL Rewrite rules (CVE-2021-26855)')
    .option('--proxynotshell', 'final ProxyNotShell URL Rewrite rule (CVE-2022-41040)')
    .option('--um', 'stop and disable Unified Messaging (CVE-2021-26857; voicemail stops)')
    .option('--ecp-apppool', 'keep the ECP app pool stopped (CVE-2021-27065; ECP returns 503)')
    .option('--oab-apppool', 'keep the OAB app pool stopped (CVE-2021-26858; OAB downloads fail)')
    .option('--owa-csp', "EOMT outbound rule adding script-src-attr 'none' to OWA's Content-Security-Policy (CVE-2026-42897)")
    .addOption(new Option('--format <format>', 'output format').choices([...FORMATS]).default('powershell'))
    .option('--rollback', 'print the commands that undo the selected mitigations')
    .action((opts: MitigateOptions) => {
      try {
        process.stdout.write(render(planFromOptions(opts), opts.format));
      } catch (err) {
        throw new UsageError((err as Error).message);
      }
    });
}
