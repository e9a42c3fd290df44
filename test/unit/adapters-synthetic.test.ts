// Adapter behaviour the real fixtures do not cover, on synthetic files: LAMOST MRS, the VACUUM
// keyword, missing OBSID and placeholder redshifts, DESI arm combination with masks and zero
// weights, and inconsistent DESI layouts.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readSpectrumFile } from '../../src/core/spectrum/open';
import { SpecVetError } from '../../src/core/errors';
import { bintableHdu, CardInput, concat, imageHdu } from '../support/fits-writer';

const LAMOST_CARDS: CardInput[] = [
  ['CLASS', 'STAR'], ['SUBCLASS', 'K5'], ['RA', 10.5], ['DEC', -2.25], ['MJD', 58000], ['FIBERID', 12],
  ['COEFF0', 3.5682], ['COEFF1', 0.0001], ['SNRG', 20.5],
];

test('LAMOST MRS: COADD_B and COADD_R combined into one spectrum, both arms kept', () => {
  const n = 100;
  const arm = (start: number) => ({
    nRows: n,
    columns: [
      { name: 'FLUX', tform: 'E', values: Array.from({ length: n }, (_, i) => 100 + i) },
      { name: 'IVAR', tform: 'E', values: new Array(n).fill(0.5) },
      { name: 'LOGLAM', tform: 'E', values: Array.from({ length: n }, (_, i) => Math.log10(start) + i * 1e-5) },
      { name: 'ANDMASK', tform: 'I', values: new Array(n).fill(0) },
      { name: 'ORMASK', tform: 'I', values: new Array(n).fill(0) },
    ],
  });
  const bytes = concat([
    imageHdu({ bitpix: 8, shape: [], cards: [['EXTNAME', 'Information'], ['OBSID', 123456789], ['VACUUM', true], ...LAMOST_CARDS] }),
    bintableHdu({ ...arm(4950), cards: [['EXTNAME', 'COADD_B']] }),
    bintableHdu({ ...arm(6300), cards: [['EXTNAME', 'COADD_R']] }),
  ]);
  const sf = readSpectrumFile(bytes, 'med-58000-TD000000N000000B01_sp01-012.fits');
  assert.equal(sf.format, 'lamost-mrs');
  const s = sf.get(0);
  assert.equal(s.meta.id, '123456789');
  assert.deepEqual(s.arms!.map((a) => a.name), ['B', 'R']);
  assert.equal(s.wavelength.length, 2 * n);
  assert.ok(Math.abs(s.wavelength[0] - 4950) < 0.01);
  assert.ok(Math.abs(s.wavelength[n] - 6300) < 0.01);
  assert.equal(s.flux[n + 3], 103);
  assert.equal(s.meta.snr.g, 20.5);
});

test('LAMOST image: VACUUM = F gives air; no OBSID gives the file name; Z = -9999 means no redshift', () => {
  const n = 50;
  const rows = [
    ...Array.from({ length: n }, (_, i) => 10 + i),
    ...new Array(n).fill(1),
    ...Array.from({ length: n }, (_, i) => 10 ** (3.5682 + 1e-4 * i)),
    ...new Array(n).fill(0),
    ...new Array(n).fill(0),
  ];
  const bytes = imageHdu({ bitpix: -32, shape: [n, 5], data: rows, cards: [...LAMOST_CARDS, ['VACUUM', false], ['Z', -9999]] });
  const sf = readSpectrumFile(bytes, '/data/spec-58000-X_sp01-012.fits.gz');
  assert.equal(sf.format, 'lamost-lrs-image');
  const s = sf.get(0);
  assert.equal(s.medium, 'air');
  assert.equal(s.meta.id, 'spec-58000-X_sp01-012');
  assert.equal(s.meta.redshift, null);
  assert.equal(s.meta.redshiftSource, null);
  assert.equal(s.flux[5], 15);
  assert.equal(sf.path, '/data/spec-58000-X_sp01-012.fits.gz');
});

/** A two-arm DESI-like coadd with 2 spectra over an overlap of 3 pixels. */
function desiFile(opts: { fluxRows?: number } = {}) {
  const b = { n: 6, start: 5000 };
  const r = { n: 6, start: 5003 };
  const nSpec = 2;
  const wl = (a: { n: number; start: number }) => Array.from({ length: a.n }, (_, i) => a.start + i);
  const ext = (name: string, bitpix: number, shape: number[], data: number[]) => imageHdu({ primary: false, bitpix, shape, data, cards: [['EXTNAME', name]] });
  // Spectrum 0: B flux 1, R flux 3; pixel 5004 masked in B; pixel 5005 has ivar 0 in both.
  const bFlux = [1, 1, 1, 1, 1, 1, 0, 0, 0, 0, 0, 0];
  const rFlux = [3, 3, 3, 3, 3, 3, 0, 0, 0, 0, 0, 0];
  const bIvar = [1, 1, 1, 1, 1, 0, 0, 0, 0, 0, 0, 0];
  const rIvar = [3, 3, 0, 3, 3, 3, 0, 0, 0, 0, 0, 0];
  const bMask = [0, 0, 0, 0, 2, 0, 0, 0, 0, 0, 0, 0];
  const rMask = [0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0];
  return concat([
    imageHdu({ bitpix: 8, shape: [] }),
    bintableHdu({ nRows: nSpec, cards: [['EXTNAME', 'FIBERMAP']], columns: [
      { name: 'TARGETID', tform: 'K', values: [39627866878511337n, -5n] },
      { name: 'TARGET_RA', tform: 'D', values: [1.5, 2.5] },
      { name: 'TARGET_DEC', tform: 'D', values: [-1, -2] },
    ] }),
    bintableHdu({ nRows: 1, cards: [['EXTNAME', 'EXP_FIBERMAP']], columns: [{ name: 'TARGETID', tform: 'K', values: [1n] }] }),
    ext('B_WAVELENGTH', -64, [b.n], wl(b)),
    ext('B_FLUX', -32, [b.n, opts.fluxRows ?? nSpec], bFlux.slice(0, b.n * (opts.fluxRows ?? nSpec))),
    ext('B_IVAR', -32, [b.n, nSpec], bIvar),
    ext('B_MASK', 32, [b.n, nSpec], bMask),
    ext('R_WAVELENGTH', -64, [r.n], wl(r)),
    ext('R_FLUX', -32, [r.n, nSpec], rFlux),
    ext('R_IVAR', -32, [r.n, nSpec], rIvar),
    ext('R_MASK', 32, [r.n, nSpec], rMask),
  ]);
}

test('DESI combination: union grid, ivar-weighted mean in the overlap, masked pixels carry no weight', () => {
  const sf = readSpectrumFile(desiFile(), 'coadd-test.fits');
  assert.equal(sf.format, 'desi-coadd');
  assert.equal(sf.spectra[0].nPixels, 9);
  assert.equal(sf.spectra[0].id, '39627866878511337');
  assert.equal(sf.spectra[1].empty, true, 'negative TARGETID and zero flux');
  const s = sf.get(0);
  assert.deepEqual(Array.from(s.wavelength), [5000, 5001, 5002, 5003, 5004, 5005, 5006, 5007, 5008]);
  // 5003: B (w 1, f 1) and R (w 3, f 3) → (1 + 9) / 4 = 2.5, ivar 4.
  assert.equal(s.flux[3], 2.5);
  assert.equal(s.ivar![3], 4);
  // 5004: B masked, R ivar 3 → R alone.
  assert.equal(s.flux[4], 3);
  assert.equal(s.mask![4], 0);
  // 5005: B ivar 0, R ivar 0 → plain mean (1 + 3) / 2, ivar 0.
  assert.equal(s.flux[5], 2);
  assert.equal(s.ivar![5], 0);
  // Outside the overlap: one arm.
  assert.equal(s.flux[0], 1);
  assert.equal(s.flux[8], 3);
  assert.equal(s.meta.ra, 1.5);
});

test('DESI layout that contradicts FIBERMAP is a spectrum-format error naming the HDU', () => {
  assert.throws(() => readSpectrumFile(desiFile({ fluxRows: 1 }), 'bad.fits'), (e: unknown) => {
    assert.ok(e instanceof SpecVetError && e.code === 'spectrum-format');
    assert.match(e.message, /B_FLUX is 6×1, expected 6×2/);
    assert.match(e.message, /bad\.fits, HDU 4 \(B_FLUX\)/);
    return true;
  });
});
