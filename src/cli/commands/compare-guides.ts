// `specvet compare-guides A B <spectra…>`: run two guides (or a guide and its git HEAD version) on the
// same spectra with the same endpoint, and report where the verdicts differ, with links to both traces.
import * as fs from 'node:fs';
import * as path from 'node:path';
import { createEndpointClient } from '../../core/agent/endpoint';
import { SpecVetError } from '../../core/errors';
import { collectSpectra, comparisonMarkdown, guideFromGit, runGuideComparison, spectrumFilesIn } from '../../core/guides/compare';
import { loadGuide, type Guide } from '../../core/guides/guide';
import { flagSet, flagValue, numberFlag, parseArgs } from '../args';
import { ENDPOINT_FLAGS, endpointFromFlags, isDirectory, preflight } from './vet';
import type { CliCommand } from './index';

const USAGE = `Usage: specvet compare-guides <guide-A> <guide-B|HEAD> <file[#index]|folder>... --endpoint URL|scripted --model NAME --out DIR [options]

Runs guide A and guide B on the same spectra with the same endpoint and reports, spectrum by
spectrum, where the verdicts differ. A guide is a built-in id (cv, carbon, ...) or a .guide.md
path; 'HEAD' as guide B means guide A as committed in git (git show HEAD:<path>).
Writes DIR/a.jsonl and DIR/b.jsonl (the traces) and DIR/comparison.md (the report, differences
first, with file:line links and trace ids).

  --out DIR          output folder (default specvet-compare)
  --concurrency N    trajectories in flight (default 4)
  --json             print the comparison as JSON
  endpoint options as for 'specvet vet': --model, --api-key-env, --header, --protocol, --max-turns,
  --temperature, --top-p, --max-tokens, --timeout, --retries, --no-stream

Exit code 0 when every trajectory ended (whatever the verdicts); 1 for unreadable inputs or an
unusable endpoint; 2 for usage errors.
`;

const FLAGS = { ...ENDPOINT_FLAGS, out: { arity: 1 }, concurrency: { arity: 1 }, json: { arity: 0 } };

export const compareGuidesCommand: CliCommand = {
  summary: 'run two guides (or a guide and its git HEAD) on the same spectra and show where verdicts differ',
  usage: USAGE,
  async run(args: string[]): Promise<number> {
    const p = parseArgs(args, FLAGS);
    const [aArg, bArg, ...inputs] = p.positionals;
    if (!aArg || !bArg || !inputs.length) throw new SpecVetError('usage', 'need two guides and at least one spectrum file or folder (see specvet compare-guides --help)');
    const a = loadGuide(aArg);
    let b: Guide;
    if (bArg === 'HEAD') {
      if (a.source.startsWith('builtin:') && !fs.existsSync(aArg)) throw new SpecVetError('usage', "'HEAD' compares a guide file with its committed version: give guide A as a path");
      b = await guideFromGit(aArg);
    } else b = loadGuide(bArg);
    const endpoint = endpointFromFlags(p);
    if (endpoint !== 'scripted') await preflight(createEndpointClient(endpoint), endpoint);
    const files = inputs.flatMap((i) => (isDirectory(i) ? spectrumFilesIn(i) : [i]));
    const { targets, problems } = collectSpectra(files);
    for (const pr of problems) process.stderr.write(`specvet compare-guides: ${pr.file}: ${pr.message}\n`);
    if (!targets.length) throw new SpecVetError('io', 'no readable spectrum among the inputs');
    const out = flagValue(p, 'out') ?? 'specvet-compare';
    const labelA = a.source.startsWith('builtin:') ? a.source : path.basename(a.source);
    const labelB = bArg === 'HEAD' ? 'git HEAD' : b.source.startsWith('builtin:') ? b.source : path.basename(b.source);
    const json = flagSet(p, 'json');
    const c = await runGuideComparison({
      a: { guide: a, label: bArg === 'HEAD' ? 'working copy' : labelA, tracesFile: path.join(out, 'a.jsonl') },
      b: { guide: b, label: labelB, tracesFile: path.join(out, 'b.jsonl') },
      targets,
      endpoint,
      concurrency: numberFlag(p, 'concurrency', { min: 1, max: 256, integer: true }) ?? 4,
      onProgress: json ? undefined : (done, total) => process.stderr.write(`\r${done}/${total} trajectories`),
    });
    if (!json) process.stderr.write('\n');
    const report = path.join(out, 'comparison.md');
    fs.writeFileSync(report, comparisonMarkdown(c, out));
    if (json) {
      process.stdout.write(JSON.stringify({ ...c, report }, null, 2) + '\n');
      return problems.length ? 1 : 0;
    }
    for (const r of c.rows.filter((x) => x.differ)) {
      const side = (l: typeof r.a) => (l ? `${l.verdict ?? '—'} (${l.status}) ${l.file}:${l.line}` : 'not run');
      process.stdout.write(`≠ ${r.file}#${r.index} ${r.spectrumId}: A ${side(r.a)} | B ${side(r.b)}\n`);
    }
    process.stdout.write(`${c.differences} of ${c.total} spectra differ (A ${c.a.label}: ${c.a.verdicts.YES} YES, ${c.a.verdicts.NO} NO; B ${c.b.label}: ${c.b.verdicts.YES} YES, ${c.b.verdicts.NO} NO); report ${report}\n`);
    return problems.length ? 1 : 0;
  },
};
