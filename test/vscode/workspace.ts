// The workspace the extension-host suite opens: every real fixture plus deliberately broken files.
// Shared by the code-server runner, the @vscode/test-electron runner and the editor benchmark.
import * as fs from 'node:fs';
import * as path from 'node:path';
import { repoRoot } from '../support/paths';

export const BAD_FILES = {
  'not-fits.fits': 'a text file with a FITS extension',
  'truncated.fits': 'the SDSS fixture cut at byte 30000 (inside the data)',
  'empty.fits': 'zero bytes',
  'corrupt.fits.gz': 'a gzip stream with its middle overwritten',
} as const;

/** A scratch copy of the SDSS fixture the suite overwrites to test reloading on change. */
export const RELOAD_FILE = 'reload-me.fits';

export function prepareWorkspace(dir: string): string {
  fs.mkdirSync(dir, { recursive: true });
  const src = path.join(repoRoot, 'test/fixtures/spectra');
  for (const f of fs.readdirSync(src)) fs.copyFileSync(path.join(src, f), path.join(dir, f));
  fs.writeFileSync(path.join(dir, 'not-fits.fits'), 'SIMPLE? no: this is a plain text file that only pretends to be FITS.\n'.repeat(60));
  fs.writeFileSync(path.join(dir, 'truncated.fits'), fs.readFileSync(path.join(src, 'sdss_dr18_0358-51818-0504.fits')).subarray(0, 30000));
  fs.writeFileSync(path.join(dir, 'empty.fits'), new Uint8Array(0));
  fs.copyFileSync(path.join(src, 'sdss_dr18_0358-51818-0504.fits'), path.join(dir, RELOAD_FILE));
  const gz = Buffer.from(fs.readFileSync(path.join(src, 'spec-57287-KP193637N444141V03_sp10-161.fits.gz')));
  gz.fill(0x41, 2000, 12000);
  fs.writeFileSync(path.join(dir, 'corrupt.fits.gz'), gz);
  return dir;
}
