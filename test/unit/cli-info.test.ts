// `specvet info` as a user runs it: the built CLI bundle and the package's bin launcher, spawned.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fixture, repoRoot } from '../support/paths';

const cli = join(repoRoot, 'dist/cli.js');
const bin = join(repoRoot, 'bin/specvet.js');

function run(entry: string, args: string[]) {
  const r = spawnSync(process.execPath, [entry, ...args], { cwd: repoRoot, encoding: 'utf8', timeout: 30_000 });
  return { code: r.status, stdout: r.stdout, stderr: r.stderr };
}

test('the CLI bundle exists (built by scripts/build.mjs)', () => {
  assert.ok(existsSync(cli), `${cli} missing: run node scripts/build.mjs`);
});

test('info --json gives exactly the documented shape for a LAMOST file', () => {
  const file = fixture('spec-57287-KP193637N444141V03_sp10-161.fits.gz');
  const r = run(cli, ['info', file, '--json']);
  assert.equal(r.code, 0, r.stderr);
  const j = JSON.parse(r.stdout);
  assert.deepEqual(Object.keys(j), ['file', 'format', 'survey', 'spectra', 'hdus']);
  assert.equal(j.file, file);
  assert.equal(j.format, 'lamost-lrs-image');
  assert.equal(j.survey, 'LAMOST');
  assert.deepEqual(j.spectra, [{
    index: 0, id: '359910161', nPixels: 3909, wavelengthMin: 3699.9853117285957, wavelengthMax: 9099.132726322518,
    redshift: -0.00017162, objectClass: 'STAR', ra: 292.05872, dec: 43.925228,
  }]);
  assert.deepEqual(j.hdus, [{ index: 0, name: 'Flux', kind: 'image' }]);
});

test('info --json on a DESI coadd: TARGETIDs exact as strings, objectClass and redshift null', () => {
  const r = run(cli, ['info', fixture('coadd-sv3-dark-26065.fits'), '--json']);
  assert.equal(r.code, 0, r.stderr);
  const j = JSON.parse(r.stdout);
  assert.equal(j.format, 'desi-coadd');
  assert.deepEqual(j.spectra.map((s: { id: string }) => s.id), ['-2713437', '-2713415', '39627866878511337', '616088619186127404', '39627866878514741']);
  assert.equal(j.spectra[2].objectClass, null);
  assert.equal(j.spectra[2].redshift, null);
  assert.equal(j.spectra[2].nPixels, 7781);
  assert.equal(j.hdus.length, 19);
  assert.deepEqual(j.hdus[6], { index: 6, name: 'B_MASK', kind: 'image' });
});

test('info --json on SDSS gives plate-mjd-fiber ids, class and SPECOBJ redshift', () => {
  const j = JSON.parse(run(cli, ['info', fixture('sdss_dr18_0358-51818-0504.fits'), '--json']).stdout);
  assert.equal(j.spectra[0].id, '0358-51818-0504');
  assert.equal(j.spectra[0].objectClass, 'GALAXY');
  assert.equal(j.spectra[0].redshift, 0.04723230376839638);
  const k = JSON.parse(run(cli, ['info', fixture('spSpec-52999-1307-323.fit'), '--json']).stdout);
  assert.equal(k.spectra[0].id, '1307-52999-0323');
});

test('info on a redrock catalogue: no spectra, the catalogue in JSON and in the readable summary', () => {
  const file = fixture('redrock-test.fits');
  const j = JSON.parse(run(cli, ['info', file, '--json']).stdout);
  assert.deepEqual(j.spectra, []);
  assert.equal(j.catalog.length, 3);
  assert.equal(j.catalog[0].targetId, '616094145466860255');
  const r = run(cli, ['info', file]);
  assert.equal(r.code, 0);
  assert.match(r.stdout, /desi-redrock: 3 redshift rows/);
  assert.match(r.stdout, /616094145466860255\s+1\.328282/);
});

test('readable summary lists spectra, empty fibres and HDUs, including skipped/compressed ones', () => {
  const r = run(cli, ['info', fixture('spectra-sv3-dark-26065.fits')]);
  assert.equal(r.code, 0, r.stderr);
  assert.match(r.stdout, /DESI desi-spectra: 5 spectra/);
  assert.match(r.stdout, /-2713437 .* empty fibre/);
  assert.match(r.stdout, /B_MASK\s+compressed-image\s+2751×5 uint32, tile-compressed GZIP_1/);
  assert.equal(r.stderr, '');
});

test('the bin launcher (npx specvet) runs the same command', () => {
  const r = run(bin, ['info', fixture('spec-55862-B6212_sp06-025.fits'), '--json']);
  assert.equal(r.code, 0, r.stderr);
  assert.equal(JSON.parse(r.stdout).spectra[0].id, 'spec-55862-B6212_sp06-025');
});

test('errors: one line on stderr, non-zero exit, nothing on stdout', () => {
  const dir = mkdtempSync(join(tmpdir(), 'specvet-cli-'));
  const junk = join(dir, 'junk.fits');
  writeFileSync(junk, 'this is not FITS'.repeat(300));
  const cases: Array<[string[], RegExp, number]> = [
    [['info', join(dir, 'missing.fits')], /file not found.*missing\.fits/, 1],
    [['info', junk], /not a FITS file.*junk\.fits/, 1],
    [['info'], /missing <file>/, 2],
    [['info', 'a.fits', 'b.fits'], /expected one file/, 2],
    [['info', junk, '--color'], /unknown option --color/, 2],
  ];
  for (const [args, re, code] of cases) {
    const r = run(cli, args);
    assert.equal(r.code, code, `${args.join(' ')}: exit ${r.code}`);
    assert.equal(r.stdout, '');
    assert.match(r.stderr, re);
    assert.equal(r.stderr.trim().split('\n').length, 1, `one line: ${r.stderr}`);
  }
});

test('info --help prints usage and exits 0', () => {
  const r = run(cli, ['info', '--help']);
  assert.equal(r.code, 0);
  assert.match(r.stdout, /specvet info <file> \[--json\]/);
});
