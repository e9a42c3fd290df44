// What the extension-host suite files share: their list of cases, waiting for a condition, the
// workspace's files, and screenshots taken by the runner (test/support/code-server.ts).
import * as vscode from 'vscode';
import * as fs from 'node:fs';
import * as path from 'node:path';

export interface Case {
  name: string;
  fn: () => Promise<void>;
  timeoutMs: number;
}

/** The `test(name, fn, timeoutMs?)` of one suite file: adds `<prefix><name>` to `cases`. */
export function caseAdder(cases: Case[], prefix: string, defaultTimeoutMs: number): (name: string, fn: () => Promise<void>, timeoutMs?: number) => void {
  return (name, fn, timeoutMs = defaultTimeoutMs) => {
    cases.push({ name: prefix + name, fn, timeoutMs });
  };
}

export const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

function workspaceUri(): vscode.Uri {
  const f = vscode.workspace.workspaceFolders?.[0];
  if (!f) throw new Error('the suite needs a workspace folder with the fixtures');
  return f.uri;
}

/** The suite's workspace folder (a copy of the fixtures) as a path. */
export function workspaceFolder(): string {
  return workspaceUri().fsPath;
}

export function workspaceFile(name: string): vscode.Uri {
  return vscode.Uri.joinPath(workspaceUri(), name);
}

/** Polls `get` every 100 ms until `ok` holds; the error names what was awaited and the last value (without bulky trace texts). */
export async function until<T>(what: string, get: () => T | PromiseLike<T>, ok: (v: T) => boolean, timeoutMs = 30_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  let v = await get();
  while (!ok(v)) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}; last: ${JSON.stringify(v, (k, x) => (k === 'thinkTexts' || k === 'messages' ? undefined : x))?.slice(0, 1500)}`);
    await sleep(100);
    v = await get();
  }
  return v;
}

/**
 * Asks the runner for a screenshot of the workbench after `settleMs` (the webview paints) and waits
 * until it is taken. Resolves to the PNG's path, or null when no runner listens or none was written.
 */
export async function requestScreenshot(name: string, settleMs: number): Promise<string | null> {
  const dir = process.env.SPECVET_SCREENSHOT_DIR;
  if (!dir) return null;
  // The chat side bar of recent VS Code builds only narrows the editors in the picture.
  await vscode.commands.executeCommand('workbench.action.closeAuxiliaryBar').then(undefined, () => undefined);
  await sleep(settleMs);
  const req = path.join(dir, `${name}.request`);
  fs.writeFileSync(req, '');
  // The runner writes the PNG, then removes the request.
  const deadline = Date.now() + 15_000;
  while (fs.existsSync(req) && Date.now() < deadline) await sleep(100);
  const png = path.join(dir, `${name}.png`);
  return fs.existsSync(png) ? png : null;
}
