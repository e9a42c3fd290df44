// `npm test`: build every bundle, type-check, install the browser and VS Code the UI tests need
// (idempotent, Debian + npm registry only), then run every test file with node's test runner.
// Usage: node scripts/test.mjs [--only unit|webview|vscode] [extra node --test args]
import { spawnSync } from 'node:child_process';
import { existsSync, readdirSync, statSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const args = process.argv.slice(2);
const onlyIdx = args.indexOf('--only');
const only = onlyIdx >= 0 ? args.splice(onlyIdx, 2)[1] : undefined;

function run(cmd, cmdArgs, opts = {}) {
  const r = spawnSync(cmd, cmdArgs, { cwd: root, stdio: 'inherit', ...opts });
  if (r.status !== 0) {
    console.error(`\n${cmd} ${cmdArgs.join(' ')} failed (exit ${r.status ?? r.signal})`);
    process.exit(r.status || 1);
  }
}

function testFiles(dir) {
  const abs = join(root, dir);
  if (!existsSync(abs)) return [];
  const out = [];
  for (const name of readdirSync(abs).sort()) {
    const p = join(abs, name);
    if (statSync(p).isDirectory()) out.push(...testFiles(join(dir, name)));
    else if (name.endsWith('.test.js')) out.push(join(dir, name));
  }
  return out;
}

run(process.execPath, ['scripts/build.mjs']);
run('npm', ['run', '--silent', 'typecheck']);

const groups = only ? [only] : ['unit', 'webview', 'vscode'];
const files = groups.flatMap((g) => testFiles(join('out/test', g)));
const needsTools = files.some((f) => /out[\\/]test[\\/](webview|vscode)[\\/]/.test(f));
if (needsTools && existsSync(join(root, 'scripts/setup-test-tools.sh'))) run('bash', ['scripts/setup-test-tools.sh']);

if (!files.length) {
  console.error('no test files found under out/test');
  process.exit(1);
}
run(process.execPath, ['--test', '--test-concurrency=2', '--test-reporter=spec', ...args, ...files]);
