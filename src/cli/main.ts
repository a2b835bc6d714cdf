#!/usr/bin/env node
import { Command, CommanderError } from 'commander';
import { VERSION } from '../version.js';
import { SINGLE_FILE } from '../packaged.js';
import { registrationsFor } from './commands/index.js';
import { ERROR_PREFIX, EXIT, UsageError } from './errors.js';
import { boundHeapGrowth } from './heap.js';
import { earlyScanWorkers } from './early.js';
import { enableRelaxedSimd } from './wasm-flags.js';

// Before any evidence is read: peak memory near the live data, in this thread and every worker (cli/heap.ts).
boundHeapGrowth();
enableRelaxedSimd();

async function main(argv: string[]): Promise<number> {
  const program = new Command();
  program
    .name('exhunt')
    .description('Hunt for Exchange ProxyLogon / ProxyShell / ProxyNotShell / OWASSRF exploitation in server evidence')
    .version(SINGLE_FILE ? `${VERSION} (single-file executable, Node ${process.version}, ${process.platform}-${process.arch})` : VERSION)
    .exitOverride()
    .configureOutput({
      writeErr: (s) => process.stderr.write(s),
      // One prefix for every error, commander's own (unknown option, missing argument) included.
      outputError: (s, write) => write(s.replace(/^error: /, `${ERROR_PREFIX} `)),
    });
  const started = { scanWorkers: earlyScanWorkers(argv) };
  for (const register of await registrationsFor(argv)) register(program, started);
  try {
    await program.parseAsync(argv);
    return typeof process.exitCode === 'number' ? process.exitCode : EXIT.CLEAN;
  } catch (err) {
    if (err instanceof CommanderError) {
      // --help and --version exit through here with code 0.
      return err.exitCode === 0 ? EXIT.CLEAN : EXIT.USAGE;
    }
    if (err instanceof UsageError) {
      process.stderr.write(`${ERROR_PREFIX} ${err.message}\n`);
      return EXIT.USAGE;
    }
    const message = err instanceof Error ? err.message : String(err);
    process.stderr.write(`${ERROR_PREFIX} ${message}\n`);
    if (process.env.EXHUNT_DEBUG && err instanceof Error) process.stderr.write(`${err.stack}\n`);
    return EXIT.USAGE;
  }
}

// A reader that closes the pipe early (`exhunt evtx dump x.evtx | head`) is not an error: stop quietly.
process.stdout.on('error', (err: NodeJS.ErrnoException) => {
  if (err.code !== 'EPIPE') throw err;
  process.exit(EXIT.CLEAN);
});

main(process.argv).then((code) => {
  process.exitCode = code;
});
