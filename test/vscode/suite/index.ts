// Extension-host tests, run inside the REAL VS Code (code-server here, @vscode/test-electron on a
// laptop). Runner-agnostic: the module exports run(), which runs every test in order, writes the
// results as JSON to $SPECVET_TEST_RESULTS and rejects if any failed.
import * as vscode from 'vscode';
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import type { RenderReport } from '../../../src/shared/protocol';
import { repoRoot } from '../../support/paths';
import { caseAdder, requestScreenshot, sleep, workspaceFile, type Case } from './harness';

const cases: Case[] = [];
const test = caseAdder(cases, '', 60_000);

const truth = JSON.parse(fs.readFileSync(path.join(repoRoot, 'test/fixtures/spectra/truth.json'), 'utf8'));

async function lastRender(uri: vscode.Uri): Promise<RenderReport | null> {
  return (await vscode.commands.executeCommand<RenderReport | null>('specvet._test.lastRender', uri.toString())) ?? null;
}

/** Open with the custom editor and wait until its webview reports a render matching `pred`. */
async function openAndWait(name: string, pred: (r: RenderReport) => boolean, timeoutMs = 30_000): Promise<RenderReport> {
  const uri = workspaceFile(name);
  await vscode.commands.executeCommand('vscode.openWith', uri, 'specvet.fitsViewer');
  return waitForRender(uri, pred, timeoutMs, `render of ${name}`);
}

async function waitForRender(uri: vscode.Uri, pred: (r: RenderReport) => boolean, timeoutMs: number, what: string): Promise<RenderReport> {
  const deadline = Date.now() + timeoutMs;
  let last: RenderReport | null = null;
  while (Date.now() < deadline) {
    last = await lastRender(uri);
    if (last && pred(last)) return last;
    await sleep(100);
  }
  const panels = await vscode.commands.executeCommand('specvet._test.panels');
  throw new Error(`timed out waiting for ${what}; last report: ${JSON.stringify(last)}; panels: ${JSON.stringify(panels)}`);
}

async function closeAll(): Promise<void> {
  await vscode.commands.executeCommand('workbench.action.closeAllEditors');
}

/** A screenshot of the workbench page; no-op when no runner listens. */
async function screenshot(name: string): Promise<void> {
  await requestScreenshot(name, 400);
}

const SPECTRUM_FIXTURES = Object.keys(truth).filter((f) => truth[f].spectra?.length && !f.startsWith('redrock'));

// ---------------------------------------------------------------------------------------------

test('the custom editor is registered for .fits/.fit/.fts/.fits.gz and the extension activates', async () => {
  const ext = vscode.extensions.all.find((e) => e.packageJSON?.name === 'specvet');
  assert.ok(ext, 'specvet extension loaded');
  const editors = ext.packageJSON.contributes.customEditors as Array<{ viewType: string; selector: Array<{ filenamePattern: string }> }>;
  const patterns = editors.find((e) => e.viewType === 'specvet.fitsViewer')!.selector.map((s) => s.filenamePattern);
  assert.deepEqual(patterns.sort(), ['*.fit', '*.fits', '*.fits.gz', '*.fts'].sort());
  await openAndWait('spec-55862-B6212_sp06-025.fits', (r) => r.view === 'plot');
  assert.ok(ext.isActive, 'activated by opening a FITS file');
  await closeAll();
});

for (const name of SPECTRUM_FIXTURES) {
  test(`opens ${name}: the webview plots the first spectrum with typed arrays`, async () => {
    const r = await openAndWait(name, (x) => x.view === 'plot' && x.drawnPoints > 0 && x.fileName === name);
    const t = truth[name].spectra[0];
    assert.equal(r.spectrumIndex, 0);
    assert.equal(r.spectrumCount, truth[name].spectra.length);
    if (t.nPixels) assert.equal(r.nPoints, t.nPixels, 'every pixel reached the webview');
    if (t.wavelengthFirst) assert.ok(Math.abs(r.xRange![0] - t.wavelengthFirst) < 200 && Math.abs(r.xRange![1] - t.wavelengthLast) < 200, `x range ${r.xRange}`);
    // VS Code's postMessage transferred binary arrays, not JSON numbers.
    assert.equal(r.arrayTypes.wavelength, 'Float64Array');
    assert.equal(r.arrayTypes.flux, 'Float32Array');
    assert.match(r.axisLabel, /vacuum|air/);
    assert.ok(typeof r.firstPaintMs === 'number' && r.firstPaintMs > 0);
    if (name === 'spec-55862-B6212_sp06-025.fits') await screenshot('vscode-lamost');
    if (name === 'coadd-sv3-dark-26065.fits') await screenshot('vscode-desi');
    await closeAll();
  });
}

test('no FITS webview reported an exception or a content-security-policy violation', async () => {
  const { webviewErrors } = (await vscode.commands.executeCommand('specvet._test.panels')) as { webviewErrors: string[] };
  assert.deepEqual(webviewErrors, []);
});

test('redrock catalogue opens as a table of targets', async () => {
  const r = await openAndWait('redrock-test.fits', (x) => x.view === 'catalog');
  assert.equal(r.catalogRows, truth['redrock-test.fits'].redshifts.length);
  await closeAll();
});

test('DESI: next/previous spectrum commands and zoom-to-range command drive the webview', async () => {
  const name = 'coadd-sv3-dark-26065.fits';
  const uri = workspaceFile(name);
  await openAndWait(name, (x) => x.view === 'plot' && x.drawnPoints > 0);
  const sent = await vscode.commands.executeCommand('specvet.nextSpectrum');
  assert.equal(sent, true, 'the command found the open editor');
  let r = await waitForRender(uri, (x) => x.spectrumIndex === 1, 15_000, 'spectrum 1');
  assert.ok(r.title.includes(truth[name].spectra[1].id));
  await vscode.commands.executeCommand('specvet.nextSpectrum');
  r = await waitForRender(uri, (x) => x.spectrumIndex === 2, 15_000, 'spectrum 2');
  assert.ok(r.title.includes('39627866878511337'), 'TARGETID exact (beyond 2^53)');
  await vscode.commands.executeCommand('specvet.previousSpectrum');
  await waitForRender(uri, (x) => x.spectrumIndex === 1, 15_000, 'back to spectrum 1');
  await vscode.commands.executeCommand('specvet.zoomTo', '6500-6600');
  r = await waitForRender(uri, (x) => !!x.xRange && Math.abs(x.xRange[0] - 6500) < 1e-6 && Math.abs(x.xRange[1] - 6600) < 1e-6, 15_000, 'zoom 6500-6600');
  assert.ok(r.drawnPoints > 10);
  await vscode.commands.executeCommand('specvet.resetZoom');
  r = await waitForRender(uri, (x) => !!x.xRange && x.xRange[1] - x.xRange[0] > 5000, 15_000, 'reset');
  await closeAll();
});

for (const bad of ['not-fits.fits', 'truncated.fits', 'empty.fits', 'corrupt.fits.gz']) {
  test(`a bad file (${bad}) shows the in-editor error view and the extension keeps working`, async () => {
    const r = await openAndWait(bad, (x) => x.view === 'error' && x.fileName === bad);
    assert.ok(r.errorText && r.errorText.length > 10, `says what is wrong: ${r.errorText}`);
    if (bad === 'truncated.fits') await screenshot('vscode-error');
    await closeAll();
    // Still alive: a good file opens right after.
    await openAndWait('spSpec-52999-1307-323.fit', (x) => x.view === 'plot' && x.fileName === 'spSpec-52999-1307-323.fit');
    await closeAll();
  });
}

test('view state survives hiding and re-showing the editor (webview recreated)', async () => {
  const name = 'sdss_dr18_0358-51818-0504.fits';
  const uri = workspaceFile(name);
  await openAndWait(name, (x) => x.view === 'plot');
  await vscode.commands.executeCommand('specvet.zoomTo', '6540-6600');
  const zoomed = await waitForRender(uri, (x) => !!x.xRange && Math.abs(x.xRange[0] - 6540) < 1e-6, 15_000, 'zoomed');
  // Hide it behind a text editor, then bring it back: the webview is destroyed (no retainContextWhenHidden).
  const doc = await vscode.workspace.openTextDocument({ content: 'hide the spectrum' });
  await vscode.window.showTextDocument(doc, { preview: false });
  await sleep(500);
  await vscode.commands.executeCommand('vscode.openWith', uri, 'specvet.fitsViewer');
  await sleep(300);
  const r = await waitForRender(uri, (x) => x.webviewId !== zoomed.webviewId && x.view === 'plot' && !!x.xRange, 15_000, 're-shown');
  assert.ok(Math.abs(r.xRange![0] - 6540) < 1e-6 && Math.abs(r.xRange![1] - 6600) < 1e-6, `zoom restored: ${r.xRange}`);
  await closeAll();
});

test('a file changed on disk is read again: new content, then a clear error, then fixed', async () => {
  const uri = workspaceFile('reload-me.fits');
  const r0 = await openAndWait('reload-me.fits', (x) => x.view === 'plot' && x.title.startsWith('SDSS'));
  const lamost = await vscode.workspace.fs.readFile(workspaceFile('spec-55862-B6212_sp06-025.fits'));
  const sdss = await vscode.workspace.fs.readFile(uri);
  await vscode.workspace.fs.writeFile(uri, lamost);
  const r1 = await waitForRender(uri, (x) => x.view === 'plot' && x.title.startsWith('LAMOST'), 20_000, 'reloaded LAMOST content');
  assert.equal(r1.webviewId, r0.webviewId, 'same editor, no reopen');
  assert.equal(r1.nPoints, 3904);
  await vscode.workspace.fs.writeFile(uri, new TextEncoder().encode('garbage '.repeat(500)));
  await waitForRender(uri, (x) => x.view === 'error', 20_000, 'error after a bad write');
  await vscode.workspace.fs.writeFile(uri, sdss);
  await waitForRender(uri, (x) => x.view === 'plot' && x.title.startsWith('SDSS'), 20_000, 'fixed again');
  await closeAll();
});

/** First-paint timings for the benchmark: open each fixture `SPECVET_FIRST_PAINT_RUNS` times. */
test('first-paint timings', async () => {
  const out = process.env.SPECVET_FIRST_PAINT_FILE;
  if (!out) return;
  const runs = Number(process.env.SPECVET_FIRST_PAINT_RUNS ?? 5);
  await vscode.extensions.all.find((e) => e.packageJSON?.name === 'specvet')?.activate();
  const timings: Record<string, number[]> = {};
  const phases: Record<string, Array<Record<string, number>>> = {};
  for (const name of SPECTRUM_FIXTURES) {
    timings[name] = [];
    phases[name] = [];
    for (let i = 0; i < runs; i++) {
      await closeAll();
      await sleep(200);
      const uri = workspaceFile(name);
      const before = await lastRender(uri);
      await vscode.commands.executeCommand('vscode.openWith', uri, 'specvet.fitsViewer');
      const r = await waitForRender(uri, (x) => x !== before && x.firstPaintMs !== null && x !== null, 30_000, `first paint of ${name}`);
      timings[name].push(r.firstPaintMs!);
      phases[name].push(r.phases);
    }
  }
  fs.writeFileSync(out, JSON.stringify({ timings, phases }, null, 1));
  await closeAll();
}, 300_000);

cases.push(...(require('./guides') as typeof import('./guides')).guideCases); // guide authoring and export (test/vscode/suite/guides.ts)
cases.push(...(require('./agent') as typeof import('./agent')).agentCases); // the agent in the FITS editor (test/vscode/suite/agent.ts)
cases.push(...(require('./curation') as typeof import('./curation')).curationCases); // the Trace Curator (test/vscode/suite/curation.ts)

// ---------------------------------------------------------------------------------------------

export async function run(): Promise<void> {
  const filter = process.env.SPECVET_SUITE_FILTER ? new RegExp(process.env.SPECVET_SUITE_FILTER) : null;
  const results: Array<{ name: string; ok: boolean; ms: number; error?: string }> = [];
  // The chat side bar of recent VS Code builds only narrows the editors under test (and the screenshots).
  await vscode.commands.executeCommand('workbench.action.closeAuxiliaryBar').then(undefined, () => undefined);
  for (const c of cases) {
    if (filter && !filter.test(c.name)) continue;
    const t0 = Date.now();
    try {
      let timer: ReturnType<typeof setTimeout> | undefined;
      try {
        await Promise.race([
          c.fn(),
          new Promise((_, reject) => { timer = setTimeout(() => reject(new Error(`timed out after ${c.timeoutMs} ms`)), c.timeoutMs); }),
        ]);
      } finally {
        clearTimeout(timer);
      }
      results.push({ name: c.name, ok: true, ms: Date.now() - t0 });
      console.log(`ok - ${c.name} (${Date.now() - t0} ms)`);
    } catch (err) {
      const msg = err instanceof Error ? `${err.message}\n${err.stack ?? ''}` : String(err);
      results.push({ name: c.name, ok: false, ms: Date.now() - t0, error: msg });
      console.log(`not ok - ${c.name}\n${msg}`);
      await closeAll().catch(() => undefined);
    }
  }
  const file = process.env.SPECVET_TEST_RESULTS;
  if (file) fs.writeFileSync(file, JSON.stringify({ tests: results }, null, 1));
  const failed = results.filter((r) => !r.ok).length;
  console.log(`extension-host suite: ${results.length - failed} passed, ${failed} failed`);
  if (failed) throw new Error(`${failed} of ${results.length} extension-host tests failed`);
}
