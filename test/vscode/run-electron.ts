// `npm run test:electron`: the same extension-host suite (test/vscode/suite) under
// @vscode/test-electron, for machines with internet (it downloads VS Code). CI runs the suite
// through code-server instead (test/vscode/code-server.test.ts), because no VS Code download is
// possible there.
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { runSuiteInElectron } from '../support/electron';
import { prepareWorkspace } from './workspace';

async function main(): Promise<void> {
  const scratch = fs.mkdtempSync(path.join(os.tmpdir(), 'specvet-electron-'));
  const workspace = prepareWorkspace(path.join(scratch, 'workspace'));
  const results = path.join(scratch, 'results.json');
  let failed = false;
  try {
    await runSuiteInElectron(workspace, { SPECVET_TEST_RESULTS: results });
  } catch (err) {
    failed = true;
    console.error(`test-electron: ${err instanceof Error ? err.message : String(err)}`);
  }
  if (fs.existsSync(results)) {
    const tests = JSON.parse(fs.readFileSync(results, 'utf8')).tests as Array<{ name: string; ok: boolean; error?: string }>;
    for (const t of tests) console.log(`${t.ok ? 'ok    ' : 'FAILED'} ${t.name}${t.ok ? '' : `\n       ${t.error?.split('\n')[0]}`}`);
    const bad = tests.filter((t) => !t.ok).length;
    console.log(`\n${tests.length - bad} passed, ${bad} failed`);
    failed ||= bad > 0;
  }
  fs.rmSync(scratch, { recursive: true, force: true });
  process.exit(failed ? 1 : 0);
}

void main();
