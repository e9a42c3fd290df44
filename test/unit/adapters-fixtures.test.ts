// Every real fixture read through the adapters and compared with truth.json (values read
// independently with astropy): HDU layout, header values, arrays, metadata, DESI arms and fibres.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { readFits } from '../../src/core/fits';
import { openSpectrumFile, readSpectrumFile } from '../../src/core/spectrum/open';
import { SpecVetError } from '../../src/core/errors';
import { fixture } from '../support/paths';
import { bintableHdu, concat, imageHdu } from '../support/fits-writer';

interface TruthHdu { index: number; name: string; kind: string; shape?: number[]; nrows?: number; columns?: string[] }
interface TruthSpectrum {
  id: string; index?: number; nPixels?: number; wavelengthFirst?: number; wavelengthLast?: number;
  flux3?: number[]; fluxLast?: number; ivar3?: number[]; class?: string; subclass?: string; z?: number;
  bFlux3?: number[]; allZero?: boolean;
}
interface Truth {
  hdus: TruthHdu[];
  primary?: Record<string, string | number>;
  spectra: TruthSpectrum[];
  arms?: Record<string, { nPixels: number; first: number; last: number }>;
  redshifts?: Array<{ targetid: string; z: number; spectype: string }>;
}

const truth: Record<string, Truth> = JSON.parse(readFileSync(fixture('truth.json'), 'utf8'));
const FIXTURES = Object.keys(truth);

const KIND: Record<string, string[]> = {
  PrimaryHDU: ['header', 'image'],
  ImageHDU: ['image'],
  BinTableHDU: ['bintable'],
  CompImageHDU: ['compressed-image'],
};

function close(actual: number, expected: number, what: string, rel = 1e-12): void {
  assert.ok(Math.abs(actual - expected) <= rel * Math.max(1, Math.abs(expected)), `${what}: ${actual} ≠ ${expected}`);
}

test('truth.json covers all eight fixtures', () => {
  assert.equal(FIXTURES.length, 8);
});

for (const name of FIXTURES) {
  const t = truth[name];

  test(`${name}: HDU names, kinds, shapes, rows and columns match astropy`, () => {
    const fits = readFits(readFileSync(fixture(name)), { source: name });
    assert.equal(fits.hdus.length, t.hdus.length);
    for (const th of t.hdus) {
      const h = fits.hdus[th.index];
      assert.equal(h.name, th.name, `HDU ${th.index} name`);
      assert.ok(KIND[th.kind].includes(h.kind), `HDU ${th.index} kind ${h.kind} for ${th.kind}`);
      if (th.shape) assert.deepEqual([...h.image().shape].reverse(), th.shape, `HDU ${th.index} shape`);
      if (th.nrows !== undefined) assert.equal(h.table().nRows, th.nrows, `HDU ${th.index} rows`);
      if (th.columns) {
        const cols = h.table().columns.map((c) => `${c.name}:${c.tform}`);
        assert.deepEqual(cols, th.columns, `HDU ${th.index} columns`);
      }
    }
  });

  if (t.primary) {
    test(`${name}: primary header values match astropy`, () => {
      const h = readFits(readFileSync(fixture(name))).hdus[0].header;
      for (const [k, v] of Object.entries(t.primary!)) {
        if (typeof v === 'number') close(h.number(k)!, v, k);
        else assert.equal(h.string(k), v, k);
      }
    });
  }
}

function spectrumFile(name: string) {
  return openSpectrumFile(fixture(name));
}

const SINGLE: Record<string, { format: string; survey: string; id: string }> = {
  'spec-55862-B6212_sp06-025.fits': { format: 'lamost-lrs-image', survey: 'LAMOST', id: 'spec-55862-B6212_sp06-025' },
  'spec-57287-KP193637N444141V03_sp10-161.fits.gz': { format: 'lamost-lrs-image', survey: 'LAMOST', id: '359910161' },
  'spec-59522-EG224840N075042B03_sp05-172.fits.gz': { format: 'lamost-lrs-table', survey: 'LAMOST', id: '938505172' },
  'sdss_dr18_0358-51818-0504.fits': { format: 'sdss-spec', survey: 'SDSS', id: '0358-51818-0504' },
  'spSpec-52999-1307-323.fit': { format: 'sdss-spspec', survey: 'SDSS', id: '1307-52999-0323' },
};

for (const [name, want] of Object.entries(SINGLE)) {
  test(`${name}: adapted spectrum matches truth (format, id, wavelengths, flux, ivar, class, z)`, () => {
    const sf = spectrumFile(name);
    const tr = truth[name].spectra[0];
    const p = truth[name].primary ?? {};
    assert.equal(sf.format, want.format);
    assert.equal(sf.survey, want.survey);
    assert.equal(sf.spectra.length, 1);
    const s = sf.get(0);
    assert.equal(s.meta.id, want.id);
    assert.equal(sf.spectra[0].id, want.id);
    assert.equal(s.wavelength.length, tr.nPixels);
    assert.equal(s.flux.length, tr.nPixels);
    close(s.wavelength[0], tr.wavelengthFirst!, 'first wavelength');
    close(s.wavelength[s.wavelength.length - 1], tr.wavelengthLast!, 'last wavelength');
    assert.deepEqual(Array.from(s.flux.subarray(0, 3)), tr.flux3);
    assert.equal(s.flux[s.flux.length - 1], tr.fluxLast);
    if (tr.ivar3 && want.format !== 'sdss-spspec') {
      for (let i = 0; i < 3; i++) close(s.ivar![i], tr.ivar3[i], `ivar[${i}]`, 1e-6);
    }
    for (let i = 1; i < s.wavelength.length; i++) assert.ok(s.wavelength[i] > s.wavelength[i - 1], 'ascending wavelengths');
    assert.equal(s.medium, 'vacuum', 'every fixture says VACUUM = T');
    const z = tr.z ?? (p.Z as number | undefined);
    if (z !== undefined) close(s.meta.redshift!, z, 'redshift', 1e-7);
    const cls = tr.class ?? (p.CLASS as string | undefined);
    if (cls) assert.equal(s.meta.objectClass, cls);
    const sub = tr.subclass ?? (p.SUBCLASS as string | undefined);
    if (sub) assert.equal(s.meta.subclass, sub);
    if (typeof p.MJD === 'number') assert.equal(s.meta.mjd, p.MJD);
    if (typeof p.FIBERID === 'number') assert.equal(s.meta.fiber, p.FIBERID);
    assert.equal(s.empty, false);
    assert.equal(sf.spectra[0].nPixels, tr.nPixels);
    assert.throws(() => sf.get(1), (e: unknown) => e instanceof SpecVetError && e.code === 'spectrum-index');
  });
}

test('LAMOST DR1 image: wavelength from COEFF0/COEFF1 (row 2 is not a wavelength), S/N from SN_G/SN_R', () => {
  const s = spectrumFile('spec-55862-B6212_sp06-025.fits').get(0);
  close(s.wavelength[0], 10 ** 3.5682, 'λ0');
  close(s.wavelength[100], 10 ** (3.5682 + 100e-4), 'λ100');
  assert.equal(s.meta.snr.g, 14.9);
  assert.equal(s.meta.snr.r, 53.98);
  assert.equal(s.meta.redshiftSource?.origin, 'header Z');
  close(s.meta.redshiftSource!.error!, 2.324e-5, 'Z_ERR');
  assert.equal(s.meta.name, 'LAMOST J063632.47+270850.0');
  assert.equal(s.meta.ra, 99.135319);
  assert.equal(s.meta.dec, 27.147235);
});

test('LAMOST DR6 gzip image and DR10 table: OBSID as id, SNRG/SNRR, masks from the and-mask', () => {
  const a = spectrumFile('spec-57287-KP193637N444141V03_sp10-161.fits.gz').get(0);
  assert.equal(a.meta.snr.g, 87.63);
  assert.equal(a.meta.snr.r, 128.48);
  assert.equal(a.mask?.length, 3909);
  const b = spectrumFile('spec-59522-EG224840N075042B03_sp05-172.fits.gz').get(0);
  assert.equal(b.meta.snr.g, 39.32);
  assert.ok(b.mask instanceof Int32Array);
  assert.equal(b.meta.ra, 341.35782);
});

test('SDSS spec: class/subclass/z from SPECOBJ, object position from PLUG_RA/DEC, sky and and_mask kept', () => {
  const s = spectrumFile('sdss_dr18_0358-51818-0504.fits').get(0);
  assert.equal(s.meta.objectClass, 'GALAXY');
  assert.equal(s.meta.subclass, 'STARBURST');
  assert.equal(s.meta.redshiftSource?.origin, 'SPECOBJ.Z');
  assert.equal(s.meta.plate, 358);
  assert.equal(s.meta.fluxUnit, '1e-17 erg/s/cm²/Å');
  assert.equal(s.sky?.length, 3851);
  assert.equal(s.mask?.length, 3851);
  close(s.meta.ra!, 263.7552, 'PLUG_RA');
  assert.equal(Object.keys(s.meta.snr).join(''), 'ugriz');
});

test('SDSS spSpec: ivar = 1/σ² from row 2 (0 where σ = 0), class from SPEC_CLN, object RA/Dec', () => {
  const sf = spectrumFile('spSpec-52999-1307-323.fit');
  const s = sf.get(0);
  const img = readFits(readFileSync(fixture('spSpec-52999-1307-323.fit'))).hdus[0].image();
  // truth.json's "ivar3" for this file is row 1, which ARRAY2 names the continuum-subtracted
  // spectrum; the error is row 3 of the header's ARRAYn list (row index 2).
  assert.deepEqual(Array.from((img.row(1) as Float32Array).subarray(0, 3)), truth['spSpec-52999-1307-323.fit'].spectra[0].ivar3);
  assert.deepEqual(Array.from(s.ivar!.subarray(0, 3)), [0, 0, 0], 'σ = 0 in the first pixels: no information');
  assert.equal(s.mask![0], 16777216, 'and those pixels are flagged');
  const err = img.row(2) as Float32Array;
  for (const i of [0, 500, 1500, 3852]) {
    const want = err[i] > 0 ? 1 / (err[i] * err[i]) : 0;
    close(s.ivar![i], want, `ivar[${i}]`, 1e-6);
  }
  assert.equal(s.meta.objectClass, 'GALAXY');
  close(s.meta.ra!, 149.46417, 'RAOBJ');
  assert.equal(s.meta.snr.g, 11.0368);
});

for (const name of ['coadd-sv3-dark-26065.fits', 'spectra-sv3-dark-26065.fits']) {
  test(`${name}: TARGETIDs exact, arms B/R/Z as in the file, empty fibres marked, combined grid`, () => {
    const t = truth[name];
    const sf = spectrumFile(name);
    assert.equal(sf.survey, 'DESI');
    assert.equal(sf.format, name.startsWith('coadd') ? 'desi-coadd' : 'desi-spectra');
    assert.equal(sf.spectra.length, t.spectra.length);
    const armsTotal = Object.values(t.arms!).reduce((a, x) => a + x.nPixels, 0);
    for (const tr of t.spectra) {
      const sum = sf.spectra[tr.index!];
      assert.equal(sum.id, tr.id);
      assert.equal(sum.empty, tr.allZero === true || tr.id.startsWith('-'), `fibre ${tr.index} empty`);
      const s = sf.get(tr.index!);
      assert.equal(s.meta.id, tr.id);
      assert.equal(s.meta.targetId, tr.id);
      assert.deepEqual(s.arms!.map((a) => a.name), ['B', 'R', 'Z']);
      for (const arm of s.arms!) {
        const ta = t.arms![arm.name];
        assert.equal(arm.wavelength.length, ta.nPixels);
        assert.equal(arm.wavelength[0], ta.first);
        assert.equal(arm.wavelength[arm.wavelength.length - 1], ta.last);
        assert.equal(arm.mask?.length, ta.nPixels, 'masks decoded (tile-compressed GZIP_1 in spectra- files)');
      }
      assert.deepEqual(Array.from(s.arms![0].flux.subarray(0, 3)), tr.bFlux3);
      assert.ok(s.wavelength.length < armsTotal && s.wavelength.length === sum.nPixels);
      assert.equal(s.wavelength[0], 3600);
      for (let i = 1; i < s.wavelength.length; i++) assert.ok(s.wavelength[i] > s.wavelength[i - 1]);
    }
    assert.throws(() => sf.get(5), (e: unknown) => e instanceof SpecVetError && e.code === 'spectrum-index' && /5 spectra/.test(e.message));
  });
}

test('DESI combined spectrum: inverse-variance weighted mean where B and R overlap, one arm elsewhere', () => {
  const s = spectrumFile('coadd-sv3-dark-26065.fits').get(2);
  const [b, r] = s.arms!;
  // 5780 Å lies in both B (3600…5800) and R (5760…7620) on the shared 0.8 Å grid.
  const ib = b.wavelength.findIndex((w) => Math.abs(w - 5780) < 1e-6);
  const ir = r.wavelength.findIndex((w) => Math.abs(w - 5780) < 1e-6);
  const k = s.wavelength.findIndex((w) => Math.abs(w - 5780) < 1e-6);
  assert.ok(ib >= 0 && ir >= 0 && k >= 0);
  const wb = b.mask![ib] === 0 ? b.ivar[ib] : 0;
  const wr = r.mask![ir] === 0 ? r.ivar[ir] : 0;
  assert.ok(wb + wr > 0);
  close(s.flux[k], Math.fround((wb * b.flux[ib] + wr * r.flux[ir]) / (wb + wr)), 'weighted flux', 1e-6);
  close(s.ivar![k], Math.fround(wb + wr), 'summed ivar', 1e-6);
  // Below the overlap only B contributes.
  const k0 = s.wavelength.findIndex((w) => Math.abs(w - 4000) < 1e-6);
  const i0 = b.wavelength.findIndex((w) => Math.abs(w - 4000) < 1e-6);
  if (b.ivar[i0] > 0 && b.mask![i0] === 0) assert.equal(s.flux[k0], b.flux[i0]);
  assert.equal(s.medium, 'vacuum');
  assert.equal(s.meta.fluxUnit, '1e-17 erg/s/cm²/Å');
  assert.ok(s.meta.ra! > 216 && s.meta.ra! < 218);
});

test('DESI masks agree between the coadd (plain images) and spectra (GZIP_1 tiles) readings of the same HDU layout', () => {
  const fits = readFits(readFileSync(fixture('spectra-sv3-dark-26065.fits')));
  const mask = fits.hdus[6].image();
  assert.deepEqual(mask.shape, [2751, 5]);
  assert.equal(mask.typeName, 'uint32');
  const row = mask.row(2);
  assert.equal(row.length, 2751);
});

test('redrock: a catalogue, not spectra; TARGETIDs exact, z and SPECTYPE per row', () => {
  const sf = spectrumFile('redrock-test.fits');
  assert.equal(sf.format, 'desi-redrock');
  assert.deepEqual(sf.spectra, []);
  const want = truth['redrock-test.fits'].redshifts!;
  assert.equal(sf.catalog!.length, want.length);
  want.forEach((w, i) => {
    assert.equal(sf.catalog![i].targetId, w.targetid);
    assert.equal(sf.catalog![i].z, w.z);
    assert.equal(sf.catalog![i].spectype, w.spectype);
  });
  assert.throws(() => sf.get(0), (e: unknown) => e instanceof SpecVetError && e.code === 'spectrum-index');
});

test('gzip bytes read through readSpectrumFile give the same spectrum as the file path', () => {
  const name = 'spec-59522-EG224840N075042B03_sp05-172.fits.gz';
  const a = readSpectrumFile(readFileSync(fixture(name)), name).get(0);
  const b = spectrumFile(name).get(0);
  assert.deepEqual(a.flux, b.flux);
});

test('an unknown FITS layout is a spectrum-format error listing its HDUs', () => {
  const bytes = concat([imageHdu({ bitpix: 16, shape: [4, 4], data: new Array(16).fill(1) }), bintableHdu({ nRows: 1, columns: [{ name: 'X', tform: 'E', values: [1] }], cards: [['EXTNAME', 'EVENTS']] })]);
  assert.throws(() => readSpectrumFile(bytes, 'image.fits'), (e: unknown) => {
    assert.ok(e instanceof SpecVetError && e.code === 'spectrum-format');
    assert.match(e.message, /0 PRIMARY \(image\), 1 EVENTS \(bintable\)/);
    assert.match(e.message, /image\.fits/);
    return true;
  });
});

test('a missing file is an io error naming the path', () => {
  assert.throws(() => openSpectrumFile('/nonexistent/x.fits'), (e: unknown) => e instanceof SpecVetError && e.code === 'io' && /x\.fits/.test(e.message));
});

test('a tile-compressed HDU we cannot decode (RICE_1) is listed as skipped and the spectra still load', () => {
  const name = 'spectra-sv3-dark-26065.fits';
  const text = readFileSync(fixture(name)).toString('latin1');
  // Rewrite B_MASK's ZCMPTYPE in place (same card length) to an algorithm the reader does not decode.
  const at = text.indexOf("ZCMPTYPE= 'GZIP_1  '");
  assert.ok(at > 0);
  const bytes = Buffer.from(text.slice(0, at) + "ZCMPTYPE= 'RICE_1  '" + text.slice(at + 20), 'latin1');
  const sf = readSpectrumFile(bytes, name);
  const listing = sf.hdus[6];
  assert.equal(listing.kind, 'compressed-image');
  assert.match(listing.skipped ?? '', /RICE_1 is not decoded/);
  const s = sf.get(2);
  assert.equal(s.arms![0].mask, null, 'B mask left out');
  assert.equal(s.arms![1].mask?.length, 2326, 'R mask still decoded');
  assert.deepEqual(Array.from(s.arms![0].flux.subarray(0, 3)), truth[name].spectra[2].bFlux3);
});
