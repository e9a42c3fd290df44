// Runs the extension-host suite (test/vscode/suite) inside the real VS Code served by code-server
// on 127.0.0.1, shown by headless Chromium, and turns the suite's results into node:test subtests.
import { test, type TestContext } from 'node:test';
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { runExtensionTests, withCodeServer, type ExtensionTestOptions, type ExtensionTestRun } from '../support/code-server';
import { EXTENSION_HOST_SUITE, repoRoot } from '../support/paths';
import { prepareWorkspace } from './workspace';
import { startAgentTestServers } from './agent-servers';

/**
 * Run the suite in a fresh code-server on a fresh workspace and report each of its tests as a
 * subtest of `t`; then the run must not have timed out, `check` adds the caller's own assertions,
 * and every test must have passed.
 */
async function suiteInCodeServer(
  t: TestContext,
  o: Omit<ExtensionTestOptions, 'extensionDevelopmentPath' | 'extensionTestsPath' | 'workspace'>,
  check: (run: ExtensionTestRun, detail: () => string) => void = () => undefined,
): Promise<void> {
  await withCodeServer({}, async (cs) => {
    const workspace = prepareWorkspace(path.join(cs.runDir, 'workspace'));
    const run = await runExtensionTests(cs, { extensionDevelopmentPath: repoRoot, extensionTestsPath: EXTENSION_HOST_SUITE, workspace, ...o });
    const detail = () => `exit ${run.exitCode}${run.timedOut ? ' (timed out)' : ''}\n--- workbench log ---\n${run.log.slice(-40).join('\n')}\n--- code-server log ---\n${cs.log().slice(-3000)}`;
    assert.ok(run.results.length > 0, `the suite reported no results: ${detail()}`);
    for (const r of run.results) {
      await t.test(r.name, () => {
        if (!r.ok) assert.fail(r.error ?? 'failed');
      });
    }
    assert.equal(run.timedOut, false, `suite timed out: ${detail()}`);
    check(run, detail);
    assert.ok(run.results.every((r) => r.ok), `failed extension-host tests: ${detail()}`);
  });
}

test('extension-host suite in the real VS Code (code-server)', { timeout: 420_000 }, async (t) => {
  assert.ok(fs.existsSync(EXTENSION_HOST_SUITE), `suite not built: ${EXTENSION_HOST_SUITE} (node scripts/build.mjs)`);
  assert.ok(fs.existsSync(path.join(repoRoot, 'dist/extension.js')), 'extension not built');
  const agentServers = await startAgentTestServers(); // vLLM-like servers on 127.0.0.1 for suite/agent.ts
  t.after(() => agentServers.close());
  await suiteInCodeServer(t, {
    screenshotDir: path.join(repoRoot, 'test-results/vscode'),
    timeoutMs: 360_000,
    env: {
      ...agentServers.env,
      ...(process.env.SPECVET_SUITE_FILTER ? { SPECVET_SUITE_FILTER: process.env.SPECVET_SUITE_FILTER } : {}),
      ...(process.env.SPECVET_UPDATE_SCREENSHOTS ? { SPECVET_UPDATE_SCREENSHOTS: process.env.SPECVET_UPDATE_SCREENSHOTS } : {}),
    },
  }, (run, detail) => {
    // codeAutomationExit is not always called for a remote extension host; when it is, it must say 0.
    if (run.exitCode !== null) assert.equal(run.exitCode, 0, `suite exit code: ${detail()}`);
  });
});

// VS Code for the Web and desktop VS Code give each webview its own origin; code-server by default
// serves webviews from the workbench's origin. The editor must work both ways: its CSP, its late
// bundle (fetched through the webview's service worker) and its messages cross origins here.
test('FITS editor with webviews on their own origin (as VS Code for the Web and desktop serve them)', { timeout: 300_000 }, async (t) => {
  await suiteInCodeServer(t, {
    timeoutMs: 240_000,
    webviewsOnOwnOrigin: true,
    env: { SPECVET_SUITE_FILTER: '^(opens |a bad file)' },
  }, (run, detail) => {
    assert.ok(run.results.length >= 7, `expected every fixture's test, got ${run.results.length}: ${detail()}`);
    assert.ok(run.webviewOrigins.length > 0 && run.webviewOrigins.every((o) => /^http:\/\/[0-9a-v]{52}\.localhost:\d+$/.test(o)),
      `webviews should load from <hash>.localhost: ${run.webviewOrigins.join(', ') || 'no webview frame seen'}`);
  });
});
