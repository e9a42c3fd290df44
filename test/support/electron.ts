// The extension-host suite in desktop VS Code through @vscode/test-electron, for machines with
// internet (it downloads VS Code): `npm run test:electron` and `SPECVET_EDITOR_RUNNER=electron npm run bench editor`.
import { EXTENSION_HOST_SUITE, repoRoot } from './paths';

/** Run the suite on `workspace` with `env` in the extension host; rejects if VS Code cannot be had or fails. */
export async function runSuiteInElectron(workspace: string, env: Record<string, string>): Promise<void> {
  const { runTests } = await import('@vscode/test-electron');
  await runTests({
    extensionDevelopmentPath: repoRoot,
    extensionTestsPath: EXTENSION_HOST_SUITE,
    launchArgs: [workspace, '--disable-extensions', '--disable-workspace-trust', '--skip-welcome', '--skip-release-notes'],
    extensionTestsEnv: env,
  });
}
