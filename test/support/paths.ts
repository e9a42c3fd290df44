// Repository paths for tests: the root is found by walking up to specvet's package.json, so tests
// work the same from test/ sources and from the bundled out/test files.
import * as fs from 'node:fs';
import * as path from 'node:path';

function findRoot(start: string): string {
  let dir = start;
  for (;;) {
    const pkg = path.join(dir, 'package.json');
    if (fs.existsSync(pkg)) {
      try {
        if (JSON.parse(fs.readFileSync(pkg, 'utf8')).name === 'specvet') return dir;
      } catch {
        // not ours; keep walking
      }
    }
    const up = path.dirname(dir);
    if (up === dir) throw new Error(`specvet package.json not found above ${start}`);
    dir = up;
  }
}

export const repoRoot = findRoot(__dirname);

/** A real survey file under test/fixtures/spectra. */
export function fixture(name: string): string {
  return path.join(repoRoot, 'test/fixtures/spectra', name);
}
