// `specvet export-sft <traces.jsonl…> --out DIR [--approved-only]`: curated trajectories as
// LLaMA-Factory sharegpt fine-tuning data (the same core export the trace editor uses).
import { SpecVetError } from '../../core/errors';
import { exportSft, type SftInput } from '../../core/export/sft';
import { readTraceFile } from '../../core/trace/jsonl';
import { flagSet, flagValue, parseArgs } from '../args';
import type { CliCommand } from './index';

const USAGE = `Usage: specvet export-sft <traces.jsonl>... --out DIR [--approved-only] [--name NAME] [--no-tools]

Writes trajectories as supervised fine-tuning data in LLaMA-Factory's sharegpt layout (as the
Spec-o3 cold start): DIR/NAME.json (a list of {conversations, images, tools}), the images as PNG
files in DIR/images/, and the NAME entry of DIR/dataset_info.json (other entries kept).
Tool calls stay in the model's turns, tool results in the user's turns (masked from the loss).
Native-protocol traces are rewritten in the hermes text format the model was trained on.

A trajectory is exported when it ends with a well-formed answer (<think>…</think> and one
<answer>\\boxed{YES|NO}</answer>) and the curator did not reject it. When a trace id appears
on several lines, the latest line counts.

  --out DIR          dataset folder (created if absent)
  --approved-only    only trajectories whose curation status is 'approved'
  --name NAME        dataset name and file stem (default specvet_sft)
  --no-tools         leave out the tools column (the prompt then has no tools section)
  --json             print the report as JSON

Exit code 0 when at least one trajectory was exported, 1 when none could be (reasons listed)
or a file could not be read or written, 2 for usage errors.
`;

const FLAGS = {
  out: { arity: 1 },
  'approved-only': { arity: 0 },
  name: { arity: 1 },
  'no-tools': { arity: 0 },
  json: { arity: 0 },
};

export const exportSftCommand: CliCommand = {
  summary: 'export curated trajectories as LLaMA-Factory sharegpt fine-tuning data',
  usage: USAGE,
  async run(args: string[]): Promise<number> {
    const p = parseArgs(args, FLAGS);
    if (!p.positionals.length) throw new SpecVetError('usage', 'no trace files given (usage: specvet export-sft <traces.jsonl>... --out DIR)');
    const out = flagValue(p, 'out');
    if (!out) throw new SpecVetError('usage', 'missing --out DIR (the dataset folder to write)');
    const inputs: SftInput[] = [];
    for (const file of p.positionals) {
      const r = readTraceFile(file);
      for (const d of r.damaged) process.stderr.write(`specvet export-sft: ${file}:${d.line} skipped: ${d.reason}\n`);
      r.traces.forEach((trace, i) => inputs.push({ trace, file, line: r.lines[i] }));
    }
    const report = exportSft(inputs, { outDir: out, approvedOnly: flagSet(p, 'approved-only'), name: flagValue(p, 'name'), tools: !flagSet(p, 'no-tools') });
    if (flagSet(p, 'json')) {
      process.stdout.write(JSON.stringify(report, null, 2) + '\n');
      return report.records ? 0 : 1;
    }
    const at = (r: { file?: string; line?: number; traceId: string }) => `${r.file ?? '?'}:${r.line ?? '?'} (${r.traceId})`;
    for (const s of report.skipped) process.stdout.write(`skipped ${at(s)}: ${s.reason}\n`);
    for (const w of report.warnings) process.stdout.write(`warning ${at(w)}: ${w.message}\n`);
    const superseded = report.superseded ? `, ${report.superseded} superseded by later lines` : '';
    if (!report.records) {
      process.stderr.write(`specvet export-sft: no trajectory could be exported (${inputs.length} read, ${report.skipped.length} skipped${superseded}); nothing written\n`);
      return 1;
    }
    process.stdout.write(
      `${report.records} trajector${report.records === 1 ? 'y' : 'ies'} exported (${report.skipped.length} skipped${superseded}); ` +
        `${report.images.written} image${report.images.written === 1 ? '' : 's'} written, ${report.images.reused} already present\n` +
        `  ${report.datasetFile}\n  ${report.infoFile} (dataset '${report.datasetName}': formatting sharegpt)\n`,
    );
    return 0;
  },
};
