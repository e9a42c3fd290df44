// `specvet` command line: one dispatcher, one module per subcommand, all on the core.
import { SpecVetError, errorMessage } from '../core/errors';
import { commands } from './commands';

export async function main(argv: string[]): Promise<number> {
  const [name, ...rest] = argv;
  if (!name || name === '--help' || name === '-h' || name === 'help') {
    process.stdout.write(usage());
    return name ? 0 : 2;
  }
  if (name === '--version' || name === '-V') {
    process.stdout.write(`${VERSION}\n`);
    return 0;
  }
  const command = commands[name];
  if (!command) {
    process.stderr.write(`specvet: unknown command '${name}'. Commands: ${Object.keys(commands).join(', ')}\n`);
    return 2;
  }
  if (rest.includes('--help') || rest.includes('-h')) {
    process.stdout.write(command.usage);
    return 0;
  }
  try {
    return await command.run(rest);
  } catch (err) {
    const code = err instanceof SpecVetError && err.code === 'usage' ? 2 : 1;
    process.stderr.write(`specvet ${name}: ${errorMessage(err).replace(/\s*\n\s*/g, ' ')}\n`);
    return code;
  }
}

declare const SPECVET_VERSION: string | undefined;
const VERSION = typeof SPECVET_VERSION === 'string' ? SPECVET_VERSION : '0.1.0';

function usage(): string {
  const lines = Object.entries(commands).map(([n, c]) => `  ${n.padEnd(12)} ${c.summary}`);
  return `specvet ${VERSION} — vet rare-object candidates in LAMOST, SDSS and DESI spectra\n\nUsage: specvet <command> [options]\n\n${lines.join('\n')}\n\nRun 'specvet <command> --help' for a command's options.\n`;
}

/** Runs the CLI for this process and sets its exit code; used by bin/specvet.js and `node dist/cli.js`. */
export function runAsProcess(): void {
  main(process.argv.slice(2)).then(
    (code) => {
      process.exitCode = code;
    },
    (err) => {
      process.stderr.write(`specvet: ${errorMessage(err)}\n`);
      process.exitCode = 1;
    },
  );
}

if (require.main === module) runAsProcess();
