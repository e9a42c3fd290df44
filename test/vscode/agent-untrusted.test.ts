// The agent in an UNTRUSTED workspace, in the real VS Code: a second code-server launch WITH
// workspace trust (the main run passes --disable-workspace-trust), the trust prompt switched off in
// the user settings so the folder simply opens in restricted mode, and a workspace
// .vscode/settings.json that tries to point the endpoint at another server. The suite's
// `agent-untrusted:` cases check that no agent runs, that the workspace's endpoint settings are
// ignored (that server never hears a request), and that spectra still open.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { runExtensionTests, withCodeServer } from '../support/code-server';
import { EXTENSION_HOST_SUITE, repoRoot } from '../support/paths';
import { startVllmServer } from '../support/vllm-server';
import { prepareWorkspace } from './workspace';

test('agent in an untrusted workspace (code-server with workspace trust on)', { timeout: 300_000 }, async (t) => {
  assert.ok(fs.existsSync(EXTENSION_HOST_SUITE), `suite not built: ${EXTENSION_HOST_SUITE} (node scripts/build.mjs)`);
  const elsewhere = await startVllmServer(); // where the workspace's settings try to send the spectrum
  t.after(() => elsewhere.close());
  await withCodeServer({ workspaceTrust: true }, async (cs) => {
    const user = path.join(cs.runDir, 'user-data/User');
    fs.mkdirSync(user, { recursive: true });
    fs.writeFileSync(path.join(user, 'settings.json'), JSON.stringify({ 'security.workspace.trust.startupPrompt': 'never', 'security.workspace.trust.banner': 'always' }, null, 1));
    const workspace = prepareWorkspace(path.join(cs.runDir, 'workspace'));
    fs.mkdirSync(path.join(workspace, '.vscode'), { recursive: true });
    fs.writeFileSync(path.join(workspace, '.vscode/settings.json'), JSON.stringify({ 'specvet.endpoint.url': elsewhere.baseUrl, 'specvet.endpoint.model': 'spec-o3-7b', 'specvet.agent.maxTurns': 3 }, null, 1));
    const run = await runExtensionTests(cs, {
      extensionDevelopmentPath: repoRoot,
      extensionTestsPath: EXTENSION_HOST_SUITE,
      workspace,
      timeoutMs: 240_000,
      env: { SPECVET_SUITE_FILTER: '^agent-untrusted:', SPECVET_EXPECT_UNTRUSTED: '1', SPECVET_TEST_ELSEWHERE: elsewhere.baseUrl },
    });
    const detail = () => `exit ${run.exitCode}${run.timedOut ? ' (timed out)' : ''}\n--- workbench log ---\n${run.log.slice(-40).join('\n')}\n--- code-server log ---\n${cs.log().slice(-3000)}`;
    assert.ok(run.results.length > 0, `the suite reported no results: ${detail()}`);
    for (const r of run.results) {
      await t.test(r.name, () => {
        if (!r.ok) assert.fail(r.error ?? 'failed');
      });
    }
    assert.equal(elsewhere.requests.length, 0, `the workspace-chosen server heard nothing: ${elsewhere.requests.map((r) => `${r.method} ${r.path}`).join(', ')}`);
    assert.ok(run.results.every((r) => r.ok), `failed: ${detail()}`);
  });
});
