import type { Command } from 'commander';

export function registerScan(program: Command): void {
  program
    .command('scan')
    .description('hunt for exploitation in evidence copied from Exchange servers; each PATH is one host')
    .argument('<PATH...>', 'evidence folder, single file or triage zip (one host each)')
    .action(async () => {
      throw new Error('scan: engine not wired yet');
    });
}
