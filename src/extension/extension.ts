// Extension entry: registers the FITS custom editor and the view commands. Kept thin: all reading
// happens in src/core, all drawing in the webview.
import * as vscode from 'vscode';
import { FITS_VIEW_TYPE, FitsEditorProvider } from './fitsEditor';
import { registerGuideLanguage } from './guides';
import { activateAgent } from './agent';
import { parseRange } from './agent/input';
import { CurationEditorProvider } from './curation/curationEditor';
import type { RenderReport, ViewCommand } from '../shared/protocol';

export interface SpecVetApi {
  /** What a FITS editor's webview last reported (tests, status). */
  lastRender(uri?: vscode.Uri): RenderReport | null;
}

export function activate(context: vscode.ExtensionContext): SpecVetApi {
  const log = vscode.window.createOutputChannel('SpecVet');
  context.subscriptions.push(log);
  const fits = FitsEditorProvider.register(context, log);
  registerGuideLanguage(context, log);
  activateAgent(context, fits, log);
  CurationEditorProvider.register(context, log);

  const view = (id: string, command: ViewCommand) =>
    vscode.commands.registerCommand(id, () => {
      const sent = fits.sendViewCommand(command);
      if (!sent) void vscode.window.showInformationMessage('SpecVet: open a FITS spectrum first.');
      return sent;
    });
  context.subscriptions.push(
    view('specvet.nextSpectrum', { kind: 'nextSpectrum' }),
    view('specvet.previousSpectrum', { kind: 'previousSpectrum' }),
    view('specvet.resetZoom', { kind: 'resetZoom' }),
    view('specvet.showShortcuts', { kind: 'toggleCheatSheet' }),
    vscode.commands.registerCommand('specvet.zoomTo', async (range?: string) => {
      const text = range ?? (await vscode.window.showInputBox({ prompt: 'Wavelength range in Å, e.g. 6500-6600', placeHolder: '6500-6600' }));
      if (!text) return;
      const r = parseRange(text);
      if (!r) {
        void vscode.window.showErrorMessage(`SpecVet: "${text}" is not a wavelength range like 6500-6600.`);
        return;
      }
      fits.sendViewCommand({ kind: 'zoomTo', min: r[0], max: r[1] });
    }),
    vscode.commands.registerCommand('specvet.openInViewer', async (uri?: vscode.Uri) => {
      const target = uri ?? vscode.window.activeTextEditor?.document.uri;
      if (target) await vscode.commands.executeCommand('vscode.openWith', target, FITS_VIEW_TYPE);
    }),
    vscode.commands.registerCommand('specvet._test.panels', () => fits.panelStates()),
    // Test hook: the extension-host suite asks what the webview shows.
    vscode.commands.registerCommand('specvet._test.lastRender', (uri?: vscode.Uri | string) =>
      fits.lastRender(typeof uri === 'string' ? vscode.Uri.parse(uri) : uri),
    ),
  );
  return { lastRender: (uri) => fits.lastRender(uri) };
}

export function deactivate(): void {}
