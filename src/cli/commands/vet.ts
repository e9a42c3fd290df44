// `specvet vet`: run the Spec-o3 inspection loop over many spectra with a bounded worker pool,
// append one trace per trajectory to a JSONL file, print one line per spectrum as it finishes.
import * as fs from 'node:fs';
import * as path from 'node:path';
import type OpenAI from 'openai';
import { apiKeyFromEnv, causes, createEndpointClient, ENDPOINT_DEFAULTS, type EndpointSettings } from '../../core/agent/endpoint';
import { finishedKeys, parseSpectrumInput, runPool, spectrumJobs, type SpectrumInput } from '../../core/agent/batch';
import { startAgentRun, redactUrl } from '../../core/agent/loop';
import { SpecVetError, errorMessage } from '../../core/errors';
import { spectrumFilesIn } from '../../core/guides/compare';
import { loadGuide } from '../../core/guides/guide';
import { readTraceFile, TraceWriter } from '../../core/trace/jsonl';
import type { Trace } from '../../core/trace/schema';
import { flagSet, flagValue, numberFlag, parseArgs, type ParsedArgs } from '../args';
import type { CliCommand } from './index';

const USAGE = `Usage: specvet vet <file[#index]|folder>... [--list FILE] --guide ID|PATH --endpoint URL|scripted --model NAME [options]

Inspects each spectrum with a Spec-o3 model (think → zoom → answer) and appends one trace per
spectrum to a JSONL file. Every spectrum of a file is vetted (empty fibres skipped) unless
'#index' picks one, e.g. coadd.fits#2; a folder stands for every .fits/.fit/.fts(.gz) file below it.

  --guide ID|PATH        built-in guide (cv, carbon, s-star, m-giant, white-dwarf, o-star, b-star, a-star) or a .guide.md file
  --endpoint URL         OpenAI-compatible base URL, e.g. http://127.0.0.1:8000/v1 (vLLM); 'scripted' runs the
                         built-in inspector: it opens the guide's windows and gives no verdict (offline, no model)
  --model NAME           served model name, e.g. spec-o3-7b
  --list FILE            more inputs, one per line ('#' starts a comment line)
  --api-key-env VAR      read the API key from this environment variable
                         (default: SPECVET_API_KEY, then OPENAI_API_KEY; none for a vLLM without --api-key)
  --header 'Name: value' extra HTTP header (repeatable; values are never written to traces)
  --protocol P           hermes (default: <tool_call> text, tool results as user turns, as in training) or native
  --max-turns N          assistant turns per spectrum (default 8)
  --concurrency N        trajectories in flight (default 4)
  --temperature T, --top-p P, --max-tokens N   sampling settings (server defaults when omitted)
  --timeout S            seconds allowed for one model request (default 180)
  --retries N            retries of a failed request (default 3; honours Retry-After)
  --no-stream            ask for whole replies instead of streamed ones
  --observed-frame       show observed wavelengths even when a redshift is known (default: rest frame)
  --out FILE             traces file to append to (default traces.jsonl)
  --resume               skip spectra that already have a finished trace in --out for this guide
  --quiet                no per-spectrum lines, only the summary
  --json                 JSON lines instead of text: one object per spectrum as it finishes
                         ({file, index, spectrumId, verdict, formatOk, status, turns, seconds, traceId}
                         or {file, index, skipped}), then {summary: {...}}

Exit code 0 when every trajectory ended (whatever the verdicts); 1 for unreadable inputs or an
endpoint that cannot be used at all; 2 for usage errors; 130 when interrupted.
`;

/** The flags that say which endpoint to use and how (shared with compare-guides). */
export const ENDPOINT_FLAGS = {
  endpoint: { arity: 1 },
  model: { arity: 1 },
  'api-key-env': { arity: 1 },
  header: { arity: 1, repeat: true },
  protocol: { arity: 1 },
  'max-turns': { arity: 1 },
  temperature: { arity: 1 },
  'top-p': { arity: 1 },
  'max-tokens': { arity: 1 },
  timeout: { arity: 1 },
  retries: { arity: 1 },
  'no-stream': { arity: 0 },
};

const FLAGS = {
  ...ENDPOINT_FLAGS,
  guide: { arity: 1 },
  list: { arity: 1, repeat: true },
  concurrency: { arity: 1 },
  'observed-frame': { arity: 0 },
  out: { arity: 1 },
  resume: { arity: 0 },
  quiet: { arity: 0 },
  json: { arity: 0 },
};

export const vetCommand: CliCommand = {
  summary: 'inspect spectra with a Spec-o3 model (or the scripted inspector) and write JSONL traces',
  usage: USAGE,
  async run(args: string[]): Promise<number> {
    const p = parseArgs(args, FLAGS);
    const inputs = collectInputs(p);
    const guideArg = flagValue(p, 'guide');
    if (!guideArg) throw new SpecVetError('usage', 'missing --guide ID|PATH (e.g. --guide carbon)');
    const guide = loadGuide(guideArg);
    const endpoint = endpointFromFlags(p);
    const concurrency = numberFlag(p, 'concurrency', { min: 1, max: 1024, integer: true }) ?? 4;
    const out = flagValue(p, 'out') ?? 'traces.jsonl';
    const quiet = flagSet(p, 'quiet');
    const json = flagSet(p, 'json');
    const observedFrame = flagSet(p, 'observed-frame');

    let done = new Set<string>();
    if (flagSet(p, 'resume') && fs.existsSync(out)) {
      const prior = readTraceFile(out);
      for (const d of prior.damaged) process.stderr.write(`specvet vet: ${out} line ${d.line} skipped: ${d.reason}\n`);
      done = finishedKeys(prior.traces);
    }

    let client: OpenAI | undefined;
    if (endpoint !== 'scripted') {
      client = createEndpointClient(endpoint);
      await preflight(client, endpoint);
    }

    fs.mkdirSync(path.dirname(path.resolve(out)), { recursive: true });
    const writer = new TraceWriter(out);
    if (writer.repaired.droppedBytes) process.stderr.write(`specvet vet: removed an incomplete last line (${writer.repaired.droppedBytes} bytes) from ${out}, left by an interrupted run\n`);

    const interrupt = new AbortController();
    const onSigint = () => {
      if (!interrupt.signal.aborted) process.stderr.write('\nspecvet vet: interrupted; finishing the traces in flight as cancelled (Ctrl-C again to quit at once)\n');
      else process.exit(130);
      interrupt.abort();
    };
    process.on('SIGINT', onSigint);

    const started = Date.now();
    const tally = { spectra: 0, skipped: 0, failedInputs: 0, verdicts: { YES: 0, NO: 0, none: 0 }, statuses: new Map<string, number>() };
    const jobs = spectrumJobs(inputs, { guideId: guide.id, skipKeys: done });
    const say = (line: string, obj: Record<string, unknown>) => {
      if (!quiet) process.stdout.write((json ? JSON.stringify(obj) : line) + '\n');
    };
    const vetOne = async (job: ReturnType<typeof jobs.next>['value']) => {
      if (!job) return;
      if (job.kind === 'fail') {
        tally.failedInputs++;
        process.stderr.write(`specvet vet: ${label(job.file, job.index)}: ${job.message}\n`);
        return;
      }
      if (job.kind === 'skip') {
        tally.skipped++;
        say(`${label(job.file, job.index)}  skipped: ${job.reason}`, { file: job.file, index: job.index ?? null, skipped: job.reason });
        return;
      }
      let spectrum;
      try {
        spectrum = job.spectrumFile.get(job.index);
      } catch (err) {
        tally.failedInputs++;
        process.stderr.write(`specvet vet: ${label(job.file, job.index)}: ${errorMessage(err)}\n`);
        return;
      }
      const trace = await startAgentRun({ spectrum, source: { file: job.file, sha256: job.sha256 }, guide, endpoint, client, observedFrame, signal: interrupt.signal }).done;
      writer.append(trace);
      tally.spectra++;
      tally.statuses.set(trace.status, (tally.statuses.get(trace.status) ?? 0) + 1);
      tally.verdicts[trace.answer.verdict ?? 'none']++;
      say(resultLine(job.file, trace), {
        file: job.file,
        index: trace.source.index,
        spectrumId: trace.source.spectrumId,
        verdict: trace.answer.verdict,
        formatOk: trace.answer.formatOk,
        status: trace.status,
        ...(trace.error ? { error: trace.error } : {}),
        turns: trace.turns,
        seconds: Math.round(trace.totalMs) / 1000,
        traceId: trace.id,
      });
    };
    try {
      await runPool(jobs, concurrency, vetOne, interrupt.signal);
    } finally {
      process.off('SIGINT', onSigint);
      writer.close();
    }
    const secs = ((Date.now() - started) / 1000).toFixed(1);
    const statuses = [...tally.statuses].map(([s, n]) => `${s} ${n}`).join(', ') || 'none';
    const skipped = tally.skipped ? `, ${tally.skipped} skipped` : '';
    const failed = tally.failedInputs ? `, ${tally.failedInputs} unreadable` : '';
    if (json) {
      const summary = { spectra: tally.spectra, skipped: tally.skipped, unreadable: tally.failedInputs, guide: { id: guide.id, version: guide.version }, verdicts: tally.verdicts, statuses: Object.fromEntries(tally.statuses), seconds: Number(secs), out };
      process.stdout.write(JSON.stringify({ summary }) + '\n');
    } else {
      process.stdout.write(
        `${tally.spectra} spectr${tally.spectra === 1 ? 'um' : 'a'} vetted with guide ${guide.id} v${guide.version}${skipped}${failed}: ` +
          `${tally.verdicts.YES} YES, ${tally.verdicts.NO} NO, ${tally.verdicts.none} without verdict; status ${statuses}; ${secs} s; traces in ${out}\n`,
      );
    }
    if (interrupt.signal.aborted) return 130;
    return tally.failedInputs ? 1 : 0;
  },
};

function collectInputs(p: ParsedArgs): SpectrumInput[] {
  const raw: string[] = [...p.positionals];
  for (const [listFile] of p.flags.get('list') ?? []) {
    let text: string;
    try {
      text = fs.readFileSync(listFile, 'utf8');
    } catch (err) {
      throw new SpecVetError('io', `cannot read the --list file (${(err as NodeJS.ErrnoException).code ?? errorMessage(err)})`, listFile);
    }
    const base = path.dirname(listFile);
    for (const line of text.split(/\r?\n/)) {
      const t = line.trim();
      if (t && !t.startsWith('#')) raw.push(path.isAbsolute(t) ? t : path.join(base, t));
    }
  }
  if (!raw.length) throw new SpecVetError('usage', 'no spectrum files given (usage: specvet vet <file|folder...> --guide ID --endpoint URL --model NAME)');
  // A folder stands for every spectrum file below it.
  return raw.flatMap((r) => (isDirectory(r) ? spectrumFilesIn(r).map((file) => ({ file })) : [parseSpectrumInput(r)]));
}

/** True for an existing folder (a command-line input standing for every spectrum file below it). */
export function isDirectory(p: string): boolean {
  try {
    return fs.statSync(p).isDirectory();
  } catch {
    return false;
  }
}

/** `--endpoint URL` with the other endpoint flags, or 'scripted' for the built-in inspector. */
export function endpointFromFlags(p: ParsedArgs): EndpointSettings | 'scripted' {
  const url = flagValue(p, 'endpoint');
  if (!url) throw new SpecVetError('usage', 'missing --endpoint URL (or --endpoint scripted for the built-in inspector)');
  return url === 'scripted' ? 'scripted' : endpointSettings(p, url);
}

function endpointSettings(p: ParsedArgs, baseUrl: string): EndpointSettings {
  if (!/^https?:\/\//i.test(baseUrl)) throw new SpecVetError('usage', `--endpoint must be an http(s) URL or 'scripted', got '${baseUrl}'`);
  const model = flagValue(p, 'model');
  if (!model) throw new SpecVetError('usage', 'missing --model NAME (the served model name, e.g. spec-o3-7b)');
  const protocol = flagValue(p, 'protocol') ?? 'hermes';
  if (protocol !== 'hermes' && protocol !== 'native') throw new SpecVetError('usage', `--protocol must be hermes or native, got '${protocol}'`);
  const headers: Record<string, string> = {};
  for (const [h] of p.flags.get('header') ?? []) {
    const i = h.indexOf(':');
    if (i <= 0) throw new SpecVetError('usage', `--header must look like 'Name: value', got '${h.slice(0, 40)}'`);
    headers[h.slice(0, i).trim()] = h.slice(i + 1).trim();
  }
  const timeout = numberFlag(p, 'timeout', { min: 1, max: 3600 });
  return {
    baseUrl,
    model,
    apiKey: apiKeyFromEnv(flagValue(p, 'api-key-env')),
    headers,
    protocol,
    stream: !flagSet(p, 'no-stream'),
    temperature: numberFlag(p, 'temperature', { min: 0, max: 2 }) ?? null,
    topP: numberFlag(p, 'top-p', { min: 0, max: 1 }) ?? null,
    maxTokens: numberFlag(p, 'max-tokens', { min: 1, integer: true }) ?? null,
    maxTurns: numberFlag(p, 'max-turns', { min: 1, max: 64, integer: true }) ?? ENDPOINT_DEFAULTS.maxTurns,
    timeoutMs: timeout !== undefined ? timeout * 1000 : ENDPOINT_DEFAULTS.timeoutMs,
    retries: numberFlag(p, 'retries', { min: 0, max: 20, integer: true }) ?? ENDPOINT_DEFAULTS.retries,
  };
}

/** Fails fast on a wrong key, an unreachable server or a model it does not serve, before any spectrum is spent. */
export async function preflight(client: OpenAI, s: EndpointSettings): Promise<void> {
  const where = redactUrl(s.baseUrl);
  let ids: string[];
  try {
    const page = await client.models.list({ timeout: 15_000, maxRetries: 1 });
    ids = page.data.map((m) => m.id);
  } catch (err) {
    const status = (err as { status?: number }).status;
    if (status === 401 || status === 403) throw new SpecVetError('endpoint', `the endpoint rejected the API key (HTTP ${status}); set it with --api-key-env VAR or SPECVET_API_KEY`, where);
    if (status === 404 || status === 405) return; // an endpoint without /models: the first request will tell
    if (typeof status === 'number') throw new SpecVetError('endpoint', `the endpoint answered HTTP ${status} to GET /models`, where);
    const cause = (err as { cause?: unknown }).cause;
    throw new SpecVetError('endpoint', `cannot reach the endpoint (${cause instanceof Error ? causes(cause).text : errorMessage(err)})`, where);
  }
  if (ids.length && !ids.includes(s.model)) throw new SpecVetError('endpoint', `the endpoint does not serve model '${s.model}'; it serves: ${ids.join(', ')}`, where);
}

function label(file: string, index?: number): string {
  return index === undefined ? file : `${file}#${index}`;
}

function resultLine(file: string, t: Trace): string {
  const verdict = t.answer.verdict ?? '—';
  const fmt = t.answer.verdict && !t.answer.formatOk ? ' (format error)' : '';
  const why = t.status === 'error' || t.status === 'no_answer' ? `: ${t.error ?? ''}` : '';
  return `${label(file, t.source.index)}  ${t.source.spectrumId}  ${verdict}${fmt}  ${t.status}${why}  ${t.turns} turn${t.turns === 1 ? '' : 's'}  ${(t.totalMs / 1000).toFixed(1)} s`;
}
