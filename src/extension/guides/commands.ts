// Guide commands: run a guide on a spectrum or a folder, preview its prompt, compare two guides (or a
// guide and its git HEAD version), export traces for fine-tuning. Every command also takes explicit
// arguments (URIs, an endpoint) so it can be scripted and tested, and returns what it produced.
import * as fs from 'node:fs';
import * as path from 'node:path';
import * as vscode from 'vscode';
import { runPool } from '../../core/agent/batch';
import { startAgentRun } from '../../core/agent/loop';
import { errorMessage } from '../../core/errors';
import { exportSft, type SftExportReport, type SftInput } from '../../core/export/sft';
import { SPECTRUM_FILE_NAME, collectSpectra, comparisonMarkdown, guideFromGit, runGuideComparison, spectrumFilesIn, type GuideComparison, type SpectrumTarget } from '../../core/guides/compare';
import { BUILTIN_GUIDE_IDS, loadGuide, validateGuide, type Guide } from '../../core/guides/guide';
import { buildPromptPreview, type PromptPreview } from '../../core/guides/preview';
import type { Spectrum } from '../../core/spectrum/model';
import { parseTraceLines, readTraceFile, TraceWriter } from '../../core/trace/jsonl';
import type { Trace } from '../../core/trace/schema';
import { FITS_VIEW_TYPE } from '../fitsEditor';
import { makeNonce } from '../webviewHtml';
import { agentSettings, resolveEndpoint, tracesFolder, type GuideEndpoint } from './endpoint';
import { promptPreviewHtml } from './previewHtml';

type UriArg = vscode.Uri | string | undefined;
const toUri = (u: UriArg): vscode.Uri | undefined => (typeof u === 'string' ? (u.includes('://') ? vscode.Uri.parse(u) : vscode.Uri.file(u)) : u);

/** The guide in an editor (its unsaved text) or on disk, validated; shows the errors and returns null when invalid. */
export async function guideFromUri(arg: UriArg): Promise<Guide | null> {
  const uri = toUri(arg) ?? vscode.window.activeTextEditor?.document.uri;
  if (!uri) {
    void vscode.window.showErrorMessage('SpecVet: open a .guide.md file first.');
    return null;
  }
  const doc = await vscode.workspace.openTextDocument(uri);
  const v = validateGuide(doc.getText(), uri.fsPath);
  if (!v.guide) {
    const first = v.diagnostics.find((d) => d.severity === 'error');
    void vscode.window.showErrorMessage(`SpecVet: the guide has errors (line ${(first?.range.line ?? 0) + 1}: ${first?.message}). Fix them first; see the Problems view.`);
    return null;
  }
  return v.guide;
}

/** FITS files shown in custom-editor tabs, the active group's first. */
export function openSpectrumUris(): vscode.Uri[] {
  const out: vscode.Uri[] = [];
  const groups = [...vscode.window.tabGroups.all].sort((a, b) => Number(b.isActive) - Number(a.isActive));
  for (const g of groups)
    for (const t of g.tabs) {
      const input = t.input;
      const uri = input instanceof vscode.TabInputCustom && input.viewType === FITS_VIEW_TYPE ? input.uri : input instanceof vscode.TabInputText && SPECTRUM_FILE_NAME.test(input.uri.path) ? input.uri : null;
      if (uri && !out.some((u) => u.toString() === uri.toString())) out.push(uri);
    }
  return out;
}

async function pickSpectrumFile(explicit: UriArg): Promise<vscode.Uri | undefined> {
  const given = toUri(explicit);
  if (given) return given;
  const open = openSpectrumUris();
  if (open.length === 1) return open[0];
  if (open.length > 1) {
    const pick = await vscode.window.showQuickPick(open.map((u) => ({ label: path.basename(u.fsPath), description: vscode.workspace.asRelativePath(u), uri: u })), { title: 'Spectrum to use' });
    return pick?.uri;
  }
  const chosen = await vscode.window.showOpenDialog({ canSelectMany: false, filters: { 'Spectra (FITS)': ['fits', 'fit', 'fts', 'gz'] }, title: 'Spectrum to use' });
  return chosen?.[0];
}

/** One spectrum of a file: the given index, the only one, or the user's pick. */
async function pickTarget(file: vscode.Uri, index?: number): Promise<SpectrumTarget | null> {
  const { targets, problems } = collectSpectra([file.fsPath]);
  if (problems.length) {
    void vscode.window.showErrorMessage(`SpecVet: ${path.basename(file.fsPath)}: ${problems[0].message}`);
    return null;
  }
  if (index !== undefined) {
    const t = targets.find((x) => x.index === index);
    if (!t) void vscode.window.showErrorMessage(`SpecVet: ${path.basename(file.fsPath)} has no spectrum #${index}.`);
    return t ?? null;
  }
  if (targets.length <= 1) return targets[0] ?? null;
  const pick = await vscode.window.showQuickPick(
    targets.map((t) => {
      const s = t.spectrumFile.spectra.find((x) => x.index === t.index)!;
      return { label: `#${t.index} ${s.id}`, description: [s.objectClass, s.redshift !== null ? `z=${s.redshift.toFixed(4)}` : null].filter(Boolean).join(' '), t };
    }),
    { title: `${path.basename(file.fsPath)} holds ${targets.length} spectra` },
  );
  return pick?.t ?? null;
}

/** The guide and one spectrum to run it on (picked by the user where the arguments leave a choice); null when cancelled. */
async function guideAndTarget(guideArg: UriArg, spectrumArg: UriArg, index?: number): Promise<{ guide: Guide; target: SpectrumTarget } | null> {
  const guide = await guideFromUri(guideArg);
  if (!guide) return null;
  const file = await pickSpectrumFile(spectrumArg);
  if (!file) return null;
  const target = await pickTarget(file, index);
  return target ? { guide, target } : null;
}

export async function openTraceAt(file: string, line: number): Promise<void> {
  const doc = await vscode.workspace.openTextDocument(vscode.Uri.file(file));
  const pos = new vscode.Position(Math.max(0, line - 1), 0);
  await vscode.window.showTextDocument(doc, { selection: new vscode.Range(pos, pos), preview: true });
}

export interface RunResult {
  tracesFile: string;
  traces: Array<{ traceId: string; line: number; file: string; index: number; spectrumId: string; verdict: 'YES' | 'NO' | null; status: string; turns: number }>;
}

/** Runs a guide on targets with a progress notification; traces appended to `<traces folder>/guide-<id>.jsonl`. */
async function runOnTargets(guide: Guide, targets: SpectrumTarget[], endpoint: GuideEndpoint, log: vscode.OutputChannel, tracesFile?: string): Promise<RunResult> {
  const settings = agentSettings();
  const out = tracesFile ?? path.join(tracesFolder(settings, targets[0].file), `guide-${guide.id}.jsonl`);
  fs.mkdirSync(path.dirname(out), { recursive: true });
  const writer = new TraceWriter(out);
  const finished: Trace[] = [];
  try {
    await vscode.window.withProgress({ location: vscode.ProgressLocation.Notification, title: `SpecVet: guide ${guide.id}`, cancellable: true }, async (progress, token) => {
      const abort = new AbortController();
      token.onCancellationRequested(() => abort.abort());
      await runPool(targets.values(), Math.min(settings.concurrency, targets.length), async (t) => {
        let spectrum: Spectrum;
        try {
          spectrum = t.spectrumFile.get(t.index);
        } catch (err) {
          log.appendLine(`[${guide.id}] ${t.file}#${t.index}: ${errorMessage(err)}`);
          return;
        }
        progress.report({ message: `${path.basename(t.file)}#${t.index} (${finished.length + 1}/${targets.length})` });
        const run = startAgentRun({
          spectrum,
          source: { file: t.file, sha256: t.sha256 },
          guide,
          endpoint,
          signal: abort.signal,
          onEvent: (e) => {
            if (e.type === 'tool_call') log.appendLine(`[${guide.id}] ${spectrum.meta.id} turn ${e.turn}: ${e.name} ${JSON.stringify(e.arguments)}`);
            else if (e.type === 'error') log.appendLine(`[${guide.id}] ${spectrum.meta.id} turn ${e.turn}: ${e.message}`);
          },
        });
        const trace = await run.done;
        writer.append(trace);
        finished.push(trace);
        log.appendLine(`[${guide.id}] ${t.file}#${t.index} ${trace.source.spectrumId}: ${trace.answer.verdict ?? '—'} (${trace.status}, ${trace.turns} turns)`);
        progress.report({ increment: 100 / targets.length });
      }, abort.signal);
    });
  } finally {
    writer.close();
  }
  const r = readTraceFile(out);
  const lineOf = new Map(r.traces.map((t, i) => [t.id, r.lines[i]]));
  return {
    tracesFile: out,
    traces: finished.map((t) => ({ traceId: t.id, line: lineOf.get(t.id) ?? 0, file: t.source.file, index: t.source.index, spectrumId: t.source.spectrumId, verdict: t.answer.verdict, status: t.status, turns: t.turns })),
  };
}

export function registerGuideCommands(context: vscode.ExtensionContext, log: vscode.OutputChannel): void {
  const previews = new Map<string, vscode.WebviewPanel>();
  const reg = (id: string, fn: (...args: any[]) => Promise<unknown>) =>
    context.subscriptions.push(
      vscode.commands.registerCommand(id, async (...args: any[]) => {
        try {
          return await fn(...args);
        } catch (err) {
          log.appendLine(`${id}: ${errorMessage(err)}`);
          void vscode.window.showErrorMessage(`SpecVet: ${errorMessage(err)}`);
          return undefined;
        }
      }),
    );

  reg('specvet.guide.runOnSpectrum', async (guideArg?: UriArg, spectrumArg?: UriArg, opts?: { index?: number; endpoint?: GuideEndpoint; tracesFile?: string }): Promise<RunResult | undefined> => {
    const picked = await guideAndTarget(guideArg, spectrumArg, opts?.index);
    if (!picked) return undefined;
    const { guide, target } = picked;
    const endpoint = await resolveEndpoint(context.secrets, opts?.endpoint);
    if (!endpoint) return undefined;
    const result = await runOnTargets(guide, [target], endpoint, log, opts?.tracesFile);
    const t = result.traces[0];
    if (t && !opts) {
      void vscode.window.showInformationMessage(`SpecVet ${guide.id} on ${t.spectrumId}: ${t.verdict ?? 'no verdict'} (${t.status}, ${t.turns} turns)`, 'Open trace').then((b) => {
        if (b) void openTraceAt(result.tracesFile, t.line);
      });
    }
    return result;
  });

  reg('specvet.guide.runOnFolder', async (guideArg?: UriArg, folderArg?: UriArg, opts?: { endpoint?: GuideEndpoint; tracesFile?: string }): Promise<RunResult | undefined> => {
    const guide = await guideFromUri(guideArg);
    if (!guide) return undefined;
    const folder = toUri(folderArg) ?? (await vscode.window.showOpenDialog({ canSelectFolders: true, canSelectFiles: false, title: `Run guide ${guide.id} on every spectrum in a folder` }))?.[0];
    if (!folder) return undefined;
    const { targets, problems } = collectSpectra(spectrumFilesIn(folder.fsPath));
    for (const p of problems) log.appendLine(`skipped ${p.file}: ${p.message}`);
    if (!targets.length) {
      void vscode.window.showWarningMessage(`SpecVet: no readable spectrum in ${folder.fsPath}.`);
      return undefined;
    }
    const endpoint = await resolveEndpoint(context.secrets, opts?.endpoint);
    if (!endpoint) return undefined;
    const result = await runOnTargets(guide, targets, endpoint, log, opts?.tracesFile);
    if (!opts) {
      const yes = result.traces.filter((t) => t.verdict === 'YES').length;
      const no = result.traces.filter((t) => t.verdict === 'NO').length;
      void vscode.window.showInformationMessage(`SpecVet ${guide.id}: ${result.traces.length} spectra, ${yes} YES, ${no} NO${problems.length ? `, ${problems.length} files skipped` : ''}.`, 'Open traces').then((b) => {
        if (b) void openTraceAt(result.tracesFile, 1);
      });
    }
    return result;
  });

  reg('specvet.guide.previewPrompt', async (guideArg?: UriArg, spectrumArg?: UriArg, opts?: { index?: number }): Promise<Omit<PromptPreview, 'messages' | 'parts'> & { parts: Array<{ role: string; kind: string; bytes: number; tokens: number }> } | undefined> => {
    const picked = await guideAndTarget(guideArg, spectrumArg, opts?.index);
    if (!picked) return undefined;
    const { guide, target } = picked;
    const preview = buildPromptPreview(guide, target.spectrumFile.get(target.index));
    const key = guide.source;
    let panel = previews.get(key);
    if (!panel) {
      panel = vscode.window.createWebviewPanel('specvet.promptPreview', `Prompt: ${guide.id}`, { viewColumn: vscode.ViewColumn.Beside, preserveFocus: true }, { enableScripts: false });
      previews.set(key, panel);
      panel.onDidDispose(() => previews.delete(key));
    }
    panel.title = `Prompt: ${guide.id} · ${preview.spectrumId}`;
    panel.webview.html = promptPreviewHtml(preview, { cspSource: panel.webview.cspSource, nonce: makeNonce(), spectrumLabel: `${path.basename(target.file)}#${target.index} (${preview.spectrumId})` });
    panel.reveal(vscode.ViewColumn.Beside, true);
    const { messages: _m, parts, ...rest } = preview;
    return { ...rest, parts: parts.map((p) => ({ role: p.role, kind: p.kind, bytes: p.bytes, tokens: p.tokens })) };
  });

  const compare = async (a: Guide, labelA: string, b: Guide, labelB: string, files: string[] | undefined, opts?: { endpoint?: GuideEndpoint; outDir?: string }): Promise<(GuideComparison & { report: string }) | undefined> => {
    let spectra = files;
    if (!spectra) {
      const open = openSpectrumUris().map((u) => u.fsPath);
      const choice = await vscode.window.showQuickPick(
        [
          ...(open.length ? [{ label: `$(files) The ${open.length} spectr${open.length === 1 ? 'um' : 'a'} open in editors`, id: 'open' }] : []),
          { label: '$(folder) Every spectrum in a folder…', id: 'folder' },
          { label: '$(file) Choose spectrum files…', id: 'files' },
        ],
        { title: `Compare ${labelA} and ${labelB} on…` },
      );
      if (!choice) return undefined;
      if (choice.id === 'open') spectra = open;
      else if (choice.id === 'folder') {
        const f = await vscode.window.showOpenDialog({ canSelectFolders: true, canSelectFiles: false });
        if (!f) return undefined;
        spectra = spectrumFilesIn(f[0].fsPath);
      } else {
        const f = await vscode.window.showOpenDialog({ canSelectMany: true, filters: { 'Spectra (FITS)': ['fits', 'fit', 'fts', 'gz'] } });
        if (!f) return undefined;
        spectra = f.map((u) => u.fsPath);
      }
    }
    const { targets, problems } = collectSpectra(spectra);
    for (const p of problems) log.appendLine(`compare: skipped ${p.file}: ${p.message}`);
    if (!targets.length) {
      void vscode.window.showWarningMessage('SpecVet: no readable spectrum to compare on.');
      return undefined;
    }
    const endpoint = await resolveEndpoint(context.secrets, opts?.endpoint);
    if (!endpoint) return undefined;
    const stamp = new Date().toISOString().replace(/[:.]/g, '-');
    const outDir = opts?.outDir ?? path.join(tracesFolder(agentSettings(), targets[0].file), 'compare', `${a.id}-${stamp}`);
    const result = await vscode.window.withProgress({ location: vscode.ProgressLocation.Notification, title: `SpecVet: comparing ${labelA} and ${labelB}`, cancellable: true }, (progress, token) => {
      const abort = new AbortController();
      token.onCancellationRequested(() => abort.abort());
      return runGuideComparison({
        a: { guide: a, label: labelA, tracesFile: path.join(outDir, 'a.jsonl') },
        b: { guide: b, label: labelB, tracesFile: path.join(outDir, 'b.jsonl') },
        targets,
        endpoint,
        concurrency: agentSettings().concurrency,
        signal: abort.signal,
        onProgress: (done, total) => progress.report({ message: `${done}/${total} trajectories`, increment: 100 / total }),
      });
    });
    const report = path.join(outDir, 'comparison.md');
    fs.writeFileSync(report, comparisonMarkdown(result, outDir));
    if (!opts) {
      await vscode.commands.executeCommand('markdown.showPreview', vscode.Uri.file(report)).then(undefined, () => vscode.window.showTextDocument(vscode.Uri.file(report)));
    }
    return { ...result, report };
  };

  reg('specvet.guide.compare', async (aArg?: UriArg, bArg?: UriArg | 'HEAD', files?: string[], opts?: { endpoint?: GuideEndpoint; outDir?: string }) => {
    const a = await guideFromUri(aArg);
    if (!a) return undefined;
    let b: Guide | null = null;
    let labelB = '';
    if (bArg === 'HEAD') {
      b = await guideFromGit(a.source);
      labelB = 'git HEAD';
    } else if (bArg) {
      b = await guideFromUri(bArg);
      labelB = b ? path.basename(b.source) : '';
    } else {
      const pick = await vscode.window.showQuickPick(
        [
          { label: '$(git-commit) This guide as committed (git HEAD)', id: 'HEAD' },
          ...BUILTIN_GUIDE_IDS.map((id) => ({ label: `$(book) Built-in guide ${id}`, id: `builtin:${id}` })),
          { label: '$(file) Another guide file…', id: 'file' },
        ],
        { title: `Compare ${a.id} with…` },
      );
      if (!pick) return undefined;
      if (pick.id === 'HEAD') {
        b = await guideFromGit(a.source);
        labelB = 'git HEAD';
      } else if (pick.id.startsWith('builtin:')) {
        b = loadGuide(pick.id.slice(8));
        labelB = `built-in ${b.id}`;
      } else {
        const f = await vscode.window.showOpenDialog({ canSelectMany: false, filters: { 'SpecVet guides': ['md'] } });
        if (!f) return undefined;
        b = await guideFromUri(f[0]);
        labelB = f[0] ? path.basename(f[0].fsPath) : '';
      }
    }
    if (!b) return undefined;
    return compare(a, labelB === 'git HEAD' ? 'working copy' : path.basename(a.source), b, labelB, files, opts);
  });

  reg('specvet.guide.compareWithHead', async (aArg?: UriArg, files?: string[], opts?: { endpoint?: GuideEndpoint; outDir?: string }) => {
    const a = await guideFromUri(aArg);
    if (!a) return undefined;
    const b = await guideFromGit(a.source);
    return compare(a, 'working copy', b, 'git HEAD', files, opts);
  });

  reg('specvet.exportSft', async (first?: UriArg, selected?: UriArg[] | string[], opts?: { outDir?: string; approvedOnly?: boolean; name?: string }): Promise<SftExportReport | undefined> => {
    let files = (selected?.length ? selected : first ? [first] : []).map((u) => toUri(u)!.fsPath);
    if (!files.length) {
      const f = await vscode.window.showOpenDialog({ canSelectMany: true, filters: { 'SpecVet traces': ['jsonl'] }, title: 'Trace files to export' });
      if (!f) return undefined;
      files = f.map((u) => u.fsPath);
    }
    let outDir = opts?.outDir;
    if (!outDir) {
      const f = await vscode.window.showOpenDialog({ canSelectFolders: true, canSelectFiles: false, title: 'Dataset folder (LLaMA-Factory dataset_dir)', openLabel: 'Export here' });
      if (!f) return undefined;
      outDir = f[0].fsPath;
    }
    let approvedOnly = opts?.approvedOnly;
    if (approvedOnly === undefined) {
      const pick = await vscode.window.showQuickPick(
        [
          { label: 'Approved trajectories only', id: true },
          { label: 'Every trajectory not rejected that ends with a well-formed answer', id: false },
        ],
        { title: 'Which trajectories?' },
      );
      if (!pick) return undefined;
      approvedOnly = pick.id;
    }
    const inputs: SftInput[] = [];
    for (const file of files) {
      // An open trace document's unsaved edits are what the curator sees: export those.
      const open = vscode.workspace.textDocuments.find((d) => d.uri.fsPath === file);
      const r = open ? parseTraceLines(Buffer.from(open.getText(), 'utf8')) : readTraceFile(file);
      for (const d of r.damaged) log.appendLine(`export: ${file}:${d.line} skipped: ${d.reason}`);
      r.traces.forEach((trace, i) => inputs.push({ trace, file, line: r.lines[i] }));
    }
    const report = exportSft(inputs, { outDir, approvedOnly, name: opts?.name });
    for (const s of report.skipped) log.appendLine(`export: skipped ${s.file}:${s.line} (${s.traceId}): ${s.reason}`);
    for (const w of report.warnings) log.appendLine(`export: warning ${s(w)}`);
    if (!opts) {
      if (!report.records) void vscode.window.showWarningMessage(`SpecVet: no trajectory could be exported (${report.skipped.length} skipped; see the SpecVet output).`, 'Show reasons').then((b) => b && log.show());
      else
        void vscode.window.showInformationMessage(`SpecVet: ${report.records} trajectories exported to ${report.datasetFile} (${report.skipped.length} skipped).`, 'Reveal').then((b) => {
          if (b) void vscode.commands.executeCommand('revealFileInOS', vscode.Uri.file(report.datasetFile!));
        });
    }
    return report;
  });
}

function s(w: { file?: string; line?: number; traceId: string; message: string }): string {
  return `${w.file ?? '?'}:${w.line ?? '?'} (${w.traceId}): ${w.message}`;
}
