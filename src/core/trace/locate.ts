// Finding a trace's spectrum again, for edits that need it (a forced zoom inserted by a curator is
// rendered from the very spectrum the model saw). A trace records the file as it was given, its
// sha256 and the spectrum index; the file may since have moved with its traces, so it is looked for
// as given, beside the trace file and in the workspace folders, and accepted only when its sha256
// matches. When it cannot be found the error says where it looked.
import { createHash } from 'node:crypto';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { SpecVetError } from '../errors';
import type { Spectrum } from '../spectrum/model';
import { readSpectrumFile } from '../spectrum/open';
import type { Trace } from './schema';

export interface LocatedSpectrum {
  /** The file found (absolute). */
  file: string;
  spectrum: Spectrum;
}

/** Candidate paths for `source.file`, most specific first, without duplicates. */
export function spectrumCandidates(sourceFile: string, traceFile: string | null, folders: string[] = []): string[] {
  const out: string[] = [];
  const add = (p: string) => {
    const abs = path.resolve(p);
    if (!out.includes(abs)) out.push(abs);
  };
  const base = path.basename(sourceFile.replace(/\\/g, '/'));
  const roots = [...(traceFile ? [path.dirname(traceFile)] : []), ...folders];
  if (path.isAbsolute(sourceFile)) add(sourceFile);
  for (const r of roots) if (!path.isAbsolute(sourceFile)) add(path.join(r, sourceFile));
  for (const r of roots) add(path.join(r, base));
  return out;
}

/** Finds, checks (sha256) and opens the trace's spectrum. Throws SpecVetError('io') saying where it looked and why nothing fitted. */
export function locateTraceSpectrum(trace: Trace, traceFile: string | null, folders: string[] = []): LocatedSpectrum {
  const src = trace.source;
  const tried: string[] = [];
  for (const candidate of spectrumCandidates(src.file, traceFile, folders)) {
    let bytes: Buffer;
    try {
      if (!fs.statSync(candidate).isFile()) continue;
      bytes = fs.readFileSync(candidate);
    } catch {
      continue;
    }
    const sha = createHash('sha256').update(bytes).digest('hex');
    if (sha !== src.sha256) {
      tried.push(`${candidate} (sha256 ${sha.slice(0, 12)}…, the trace wants ${src.sha256.slice(0, 12)}…: the file changed since the run)`);
      continue;
    }
    const file = readSpectrumFile(bytes, candidate);
    if (src.index >= file.spectra.length) throw new SpecVetError('spectrum-index', `the trace's spectrum #${src.index} is not in the file (it holds ${file.spectra.length})`, candidate);
    return { file: candidate, spectrum: file.get(src.index) };
  }
  const looked = spectrumCandidates(src.file, traceFile, folders).join(', ');
  throw new SpecVetError(
    'io',
    tried.length
      ? `the trace's spectrum file was found but does not match its sha256: ${tried.join('; ')}`
      : `the trace's spectrum file ${src.file} is missing (looked for ${looked}); put it beside the trace file to render zooms`,
    `trace ${trace.id}`,
  );
}
