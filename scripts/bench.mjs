// `npm run bench`: build, then run every benchmark under out/bench/ in turn. Each prints its own
// figures and targets; the exit code is non-zero only if a benchmark crashed, never on a missed target.
// Usage: node scripts/bench.mjs [name-filter]
import { spawnSync } from 'node:child_process';
import { existsSync, readdirSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const filter = process.argv[2];
const build = spawnSync(process.execPath, ['scripts/build.mjs'], { cwd: root, stdio: 'inherit' });
if (build.status !== 0) process.exit(build.status || 1);
const dir = join(root, 'out/bench');
const files = existsSync(dir) ? readdirSync(dir).filter((f) => f.endsWith('.js') && (!filter || f.includes(filter))).sort() : [];
let failed = 0;
for (const f of files) {
  console.log(`\n=== bench/${f.replace(/\.js$/, '.ts')} ===`);
  const r = spawnSync(process.execPath, ['--expose-gc', join(dir, f)], { cwd: root, stdio: 'inherit' });
  if (r.status !== 0) failed++;
}
if (!files.length) console.log('no benchmarks built');
process.exit(failed ? 1 : 0);
