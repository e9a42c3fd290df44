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

/** The built extension-host suite (test/vscode/suite), the module every VS Code runner loads. */
export const EXTENSION_HOST_SUITE = path.join(repoRoot, 'out/test/vscode/suite/index.js');

/** A real survey file under test/fixtures/spectra. */
export function fixture(name: string): string {
  return path.join(repoRoot, 'test/fixtures/spectra', name);
}

/**
 * Every real survey file under test/fixtures/spectra (the keys of truth.json): LAMOST LRS (plain and
 * gzipped), SDSS spec and spSpec, DESI coadd, spectra and redrock.
 */
export const SPECTRUM_FIXTURES: readonly string[] = [
  'spec-55862-B6212_sp06-025.fits',
  'spec-57287-KP193637N444141V03_sp10-161.fits.gz',
  'spec-59522-EG224840N075042B03_sp05-172.fits.gz',
  'sdss_dr18_0358-51818-0504.fits',
  'spSpec-52999-1307-323.fit',
  'coadd-sv3-dark-26065.fits',
  'spectra-sv3-dark-26065.fits',
  'redrock-test.fits',
];
