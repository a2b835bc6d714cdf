import type { Command } from 'commander';
import { registerBuild } from './build.js';
import { registerCheck } from './check.js';
import { registerMitigate } from './mitigate.js';
import { registerEvtx } from './evtx.js';
import { registerScan } from './scan.js';

/** Every subcommand registers itself here; one line each. */
export const COMMANDS: Array<(program: Command) => void> = [registerScan, registerMitigate, registerBuild, registerCheck, registerEvtx];
