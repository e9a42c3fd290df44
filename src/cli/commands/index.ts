// The subcommand registry: each subcommand lives in its own module and adds one line here.
export interface CliCommand {
  /** One line for `specvet --help`. */
  summary: string;
  /** Printed for `specvet <command> --help` (or `-h`), which exits 0 without running the command. */
  usage: string;
  /** Runs with the arguments after the subcommand name; resolves to the exit code. */
  run(args: string[]): Promise<number>;
}

export const commands: Record<string, CliCommand> = {};
import { infoCommand } from './info';
commands['info'] = infoCommand;
import { renderCommand } from './render';
commands['render'] = renderCommand;
import { exportSftCommand } from './export-sft';
commands['export-sft'] = exportSftCommand;
import { vetCommand } from './vet';
commands['vet'] = vetCommand;
import { compareGuidesCommand } from './compare-guides';
commands['compare-guides'] = compareGuidesCommand;
