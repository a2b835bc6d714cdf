import type { Command } from 'commander';
import { registerBuild } from './build.js';
import { registerCheck } from './check.js';
import { registerCollect } from './collect.js';
import { registerMitigate } from './mitigate.js';
import { registerVerify } from './verify.js';
import { registerEvtx } from './evtx.js';
import { registerScan } from './scan.js';
import { registerReport } from './report.js';
import { registerRules } from './rules.js';
import { registerQueue, registerWorker } from './queue.js';

/** Every subcommand registers itself here; one line each. */
export const COMMANDS: Array<(program: Command) => void> = [registerScan, registerReport, registerQueue, registerWorker, registerMitigate, registerCollect, registerVerify, registerBuild, registerCheck, registerEvtx, registerRules];
