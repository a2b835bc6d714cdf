import type { Command } from 'commander';
import type { EarlyWorker } from '../../engine/workers.js';

/** What main.ts started before loading the command (cli/early.ts). */
export interface Started {
  scanWorkers: EarlyWorker[];
}

type Register = (program: Command, started: Started) => void;

/**
 * Every subcommand, by the name typed, and how to load the module that registers it: one line each, in the order
 * help lists them. A run loads only its own command's modules (`exhunt scan` needs no remote-check or collector
 * code; `--version` needs none).
 */
export const COMMANDS: ReadonlyArray<readonly [name: string, load: () => Promise<Register>]> = [
  ['scan', async () => (await import('./scan.js')).registerScan],
  ['report', async () => (await import('./report.js')).registerReport],
  ['queue', async () => (await import('./queue.js')).registerQueue],
  ['worker', async () => (await import('./queue.js')).registerWorker],
  ['mitigate', async () => (await import('./mitigate.js')).registerMitigate],
  ['collect', async () => (await import('./collect.js')).registerCollect],
  ['verify', async () => (await import('./verify.js')).registerVerify],
  ['build', async () => (await import('./build.js')).registerBuild],
  ['check', async () => (await import('./check.js')).registerCheck],
  ['evtx', async () => (await import('./evtx.js')).registerEvtx],
  ['rules', async () => (await import('./rules.js')).registerRules],
];

/**
 * The registrations a command line needs (`argv` as process.argv): the named command's alone; none for the version;
 * every one otherwise (help, no command, a typo: commander lists or suggests them all).
 */
export async function registrationsFor(argv: readonly string[]): Promise<Register[]> {
  const first = argv[2];
  if (first === '--version' || first === '-V') return [];
  const named = COMMANDS.find(([name]) => name === first);
  return Promise.all((named ? [named] : COMMANDS).map(([, load]) => load()));
}
