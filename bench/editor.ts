// First paint of the FITS custom editor in the real VS Code (code-server + headless Chromium):
// ms from the moment the editor starts opening the file (host clock, before reading it) to the
// webview's first painted frame of the fitted spectrum. Each fixture is opened several times.
// Target (issue 2): under 150 ms. Figures only; never fails on a target.
import * as fs from 'node:fs';
import * as path from 'node:path';
import { codeServerInstalled, runExtensionTests, withCodeServer } from '../test/support/code-server';
import { repoRoot } from '../test/support/paths';
import { prepareWorkspace } from '../test/vscode/workspace';

const RUNS = 7;

async function main(): Promise<void> {
  if (!codeServerInstalled()) {
    console.log('editor first paint: skipped (code-server not installed: bash scripts/setup-test-tools.sh)');
    return;
  }
  const suite = path.join(repoRoot, 'out/test/vscode/suite/index.js');
  await withCodeServer({}, async (cs) => {
    const workspace = prepareWorkspace(path.join(cs.runDir, 'workspace'));
    const out = path.join(cs.runDir, 'first-paint.json');
    const run = await runExtensionTests(cs, {
      extensionDevelopmentPath: repoRoot,
      extensionTestsPath: suite,
      workspace,
      env: { SPECVET_SUITE_FILTER: '^first-paint timings$', SPECVET_FIRST_PAINT_FILE: out, SPECVET_FIRST_PAINT_RUNS: String(RUNS) },
      timeoutMs: 300_000,
    });
    if (!fs.existsSync(out)) {
      console.log(`editor first paint: no timings (suite exit ${run.exitCode}):\n${run.log.slice(-20).join('\n')}`);
      process.exitCode = 1;
      return;
    }
    const { timings, phases } = JSON.parse(fs.readFileSync(out, 'utf8')) as {
      timings: Record<string, number[]>;
      phases: Record<string, Array<Record<string, number>>>;
    };
    const medians: number[] = [];
    for (const [name, ms] of Object.entries(timings)) {
      // The first open of each file also pays for VS Code's one-time webview set-up: report it apart.
      const warm = ms.slice(1).sort((a, b) => a - b);
      const med = warm[Math.floor(warm.length / 2)];
      medians.push(med);
      console.log(`first paint ${name.padEnd(48)} median ${String(med).padStart(4)} ms (first open ${ms[0]} ms, n=${warm.length}) (target ≤ 150 ms) ${med <= 150 ? 'OK' : 'MISSED'}`);
    }
    // Where the time goes (median over every warm open): host parse, webview HTML set and data posted
    // (host clock); VS Code's webview document start, our script running, messages, draw, paint, and
    // the late bundle (toolkit controls, trace panel) live (webview clock).
    const keys = ['parsed', 'htmlSet', 'posted', 'document', 'scriptFetched', 'script', 'fileLoaded', 'spectrum', 'drawn', 'paint', 'interactive'];
    const warmPhases = Object.values(phases).flatMap((p) => p.slice(1));
    const med = (k: string) => { const v = warmPhases.map((p) => p[k]).filter((x) => typeof x === 'number').sort((a, b) => a - b); return v.length ? v[Math.floor(v.length / 2)] : NaN; };
    console.log(`first paint milestones (ms after the editor starts opening, median): ${keys.filter((k) => !Number.isNaN(med(k))).map((k) => `${k} ${med(k)}`).join(' → ')}`);
    const all = medians.sort((a, b) => a - b)[Math.floor(medians.length / 2)];
    console.log(`first paint, median over fixtures: ${all} ms (target ≤ 150 ms) ${all <= 150 ? 'OK' : 'MISSED'}`);
  });
}

main().catch((err) => {
  console.error(err);
  process.exit(1);
});
