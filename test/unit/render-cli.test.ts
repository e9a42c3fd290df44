// `specvet render` as a user runs it: the built CLI in a child process on real fixtures.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { decodePng } from '../support/image-compare';
import { fixture, repoRoot } from '../support/paths';

const CLI = path.join(repoRoot, 'dist/cli.js');
const LAMOST = fixture('spec-55862-B6212_sp06-025.fits');
const SDSS = fixture('sdss_dr18_0358-51818-0504.fits');

function render(args: string[]): { code: number; stdout: string; stderr: string } {
  const r = spawnSync(process.execPath, [CLI, 'render', ...args], { cwd: repoRoot, encoding: 'utf8' });
  return { code: r.status ?? -1, stdout: r.stdout, stderr: r.stderr };
}

const tmp = (name: string): string => path.join(fs.mkdtempSync(path.join(os.tmpdir(), 'specvet-render-')), name);

test('renders a zoom window to PNG with the tool text, rest frame by default', () => {
  const out = tmp('ha.png');
  const r = render([SDSS, '--range', '6500', '6600', '--out', out]);
  assert.equal(r.code, 0, r.stderr);
  assert.match(r.stdout, /^Generated spectral visualization focused on wavelength range \(6500, 6600\) Å\.\n/);
  assert.match(r.stdout, /rest frame, z = 0\.0472/);
  const png = decodePng(fs.readFileSync(out));
  assert.equal(png.width, 552); // as the matplotlib reference of this view
  assert.equal(png.height, 351);
});

test('whole spectrum without --range; --observed and --title; .svg output', () => {
  const out = tmp('full.svg');
  const r = render([SDSS, '--observed', '--title', 'SDSS 0358-51818-0504', '--out', out]);
  assert.equal(r.code, 0, r.stderr);
  assert.match(r.stdout, /^Generated full spectrum visualization\.\n/);
  assert.match(r.stdout, /observed frame/);
  assert.ok(fs.readFileSync(out, 'utf8').startsWith('<svg'));
});

test('a bad range fails with the tool’s error text and a non-zero exit', () => {
  const out = tmp('bad.png');
  const r = render([LAMOST, '--range', '12000', '13000', '--out', out]);
  assert.equal(r.code, 1);
  assert.equal(
    r.stderr.trim(),
    'specvet render: Error: The specified wavelength range [12000, 13000] is invalid or outside the available data range [3702.4, 9094.7].',
  );
  assert.equal(fs.existsSync(out), false);
  const reversed = render([LAMOST, '--range', '6600', '6500', '--out', out]);
  assert.equal(reversed.code, 1);
  assert.match(reversed.stderr, /range \[6600, 6500\] is invalid/);
});

test('usage errors: missing --out, non-numeric range, bad spectrum index, missing file', () => {
  assert.equal(render([LAMOST]).code, 2);
  const nan = render([LAMOST, '--range', 'abc', '6600', '--out', tmp('x.png')]);
  assert.equal(nan.code, 2);
  assert.match(nan.stderr, /--range MIN must be a number, got 'abc'/);
  const idx = render([LAMOST, '--spectrum', '3', '--out', tmp('x.png')]);
  assert.notEqual(idx.code, 0);
  assert.match(idx.stderr, /spectrum 3/);
  const missing = render([path.join(repoRoot, 'no-such.fits'), '--out', tmp('x.png')]);
  assert.equal(missing.code, 1);
  assert.match(missing.stderr, /file not found/);
});
