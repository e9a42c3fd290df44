// LAMOST low-resolution (old 5×N image, new COADD table) and medium-resolution (COADD_B/COADD_R) files.
// LAMOST pipelines write vacuum wavelengths (VACUUM = T in every file seen); the header decides.
import { SpecVetError } from '../../errors';
import type { FitsFile, FitsHeader } from '../../fits';
import type { SpectrumArm, SpectrumFormat, SpectrumMeta } from '../model';
import { combineArms } from '../combine';
import {
  SpectrumAdapter, fileStem, hasLogLinear, fluxUnitText, hduByName, idText, logLinearWavelength, mediumFrom, num, singleSpectrumFile,
  snrFrom, str, toFloat32, toFloat64, toMask, wavelengthFromLog10,
} from './common';

const FLUX_UNIT = 'relative flux (LAMOST, not absolutely calibrated)';

function lamostMeta(h: FitsHeader, format: SpectrumFormat, fileName: string): SpectrumMeta {
  const z = num(h, 'Z');
  return {
    survey: 'LAMOST',
    format,
    id: idText(h, 'OBSID') ?? fileStem(fileName),
    name: str(h, 'DESIG') ?? str(h, 'OBJNAME'),
    objectClass: str(h, 'CLASS'),
    subclass: str(h, 'SUBCLASS'),
    redshift: z,
    redshiftSource: z === null ? null : { origin: 'header Z', error: num(h, 'Z_ERR') },
    ra: num(h, 'RA'),
    dec: num(h, 'DEC'),
    snr: snrFrom(h, ['u', 'g', 'r', 'i', 'z']),
    mjd: num(h, 'MJD'),
    plate: null,
    fiber: num(h, 'FIBERID'),
    targetId: null,
    fluxUnit: fluxUnitText(str(h, 'BUNIT'), FLUX_UNIT),
  };
}

/** Old format (DR1–DR9 v1): one primary image, rows flux, ivar, wavelength*, andmask, ormask. */
export const lamostImageAdapter: SpectrumAdapter = {
  format: 'lamost-lrs-image',
  survey: 'LAMOST',
  detect(fits: FitsFile): boolean {
    const p = fits.hdus[0];
    if (p.kind !== 'image') return false;
    const img = p.image();
    // Structure, not DATA_V: a 2-D primary of ≥3 rows with no further HDUs (spSpec has six tables).
    return img.shape.length === 2 && img.shape[1] >= 3 && img.shape[1] <= 5 && fits.hdus.length === 1
      && hasLogLinear(p.header) && !/SDSS/i.test(p.header.string('TELESCOP') ?? '');
  },
  adapt(fits, fileName) {
    const p = fits.hdus[0];
    return singleSpectrumFile(() => {
      const h = p.header;
      const img = p.image();
      const n = img.shape[0];
      // Row 2 is a wavelength in DR2+ but not in DR1 v2.6.4: the COEFF solution is right for all.
      const wavelength = logLinearWavelength(h, n, p.where);
      const flux = toFloat32(img.row(0), 'flux');
      const ivar = toFloat32(img.row(1), 'inverse variance');
      const mask = img.shape[1] >= 4 ? toMask(img.row(3), 'and mask') : null;
      return {
        meta: lamostMeta(h, 'lamost-lrs-image', fileName),
        wavelength,
        medium: mediumFrom(h, 'vacuum'),
        flux,
        ivar,
        mask,
        sky: null,
      };
    }, fileName);
  },
};

/** New format (DR8 v2+): header-only primary, COADD table with one row of vector columns. */
export const lamostTableAdapter: SpectrumAdapter = {
  format: 'lamost-lrs-table',
  survey: 'LAMOST',
  detect(fits) {
    const c = hduByName(fits, 'COADD');
    if (!c || c.kind !== 'bintable') return false;
    const t = c.table();
    const f = t.find('FLUX');
    return t.nRows === 1 && !!f && f.repeat > 1 && t.has('WAVELENGTH') && t.has('IVAR');
  },
  adapt(fits, fileName) {
    const t = hduByName(fits, 'COADD')!.table();
    const h = fits.hdus[0].header;
    return singleSpectrumFile(() => {
      const wavelength = toFloat64(t.column('WAVELENGTH'), 'WAVELENGTH');
      const flux = toFloat32(t.column('FLUX'), 'FLUX');
      if (flux.length !== wavelength.length) throw new SpecVetError('spectrum-format', `FLUX has ${flux.length} values but WAVELENGTH ${wavelength.length}`, t.where);
      return {
        meta: lamostMeta(h, 'lamost-lrs-table', fileName),
        wavelength,
        medium: mediumFrom(h, 'vacuum'),
        flux,
        ivar: toFloat32(t.column('IVAR'), 'IVAR'),
        mask: t.has('ANDMASK') ? toMask(t.column('ANDMASK'), 'ANDMASK') : null,
        sky: null,
      };
    }, fileName);
  },
};

/** Medium resolution (DR6+): COADD_B and COADD_R tables, one row per pixel, log10 wavelengths. */
export const lamostMrsAdapter: SpectrumAdapter = {
  format: 'lamost-mrs',
  survey: 'LAMOST',
  detect(fits) {
    return ['COADD_B', 'COADD_R'].some((n) => {
      const hdu = hduByName(fits, n);
      return !!hdu && hdu.kind === 'bintable' && hdu.table().has('LOGLAM') && hdu.table().has('FLUX');
    });
  },
  adapt(fits, fileName) {
    const h = fits.hdus[0].header;
    return singleSpectrumFile(() => {
      const arms: SpectrumArm[] = [];
      for (const name of ['COADD_B', 'COADD_R']) {
        const hdu = hduByName(fits, name);
        if (!hdu || hdu.kind !== 'bintable') continue;
        const t = hdu.table();
        const wavelength = wavelengthFromLog10(toFloat64(t.column('LOGLAM'), 'LOGLAM'));
        arms.push({
          name: name.slice(-1),
          wavelength,
          flux: toFloat32(t.column('FLUX'), 'FLUX'),
          ivar: t.has('IVAR') ? toFloat32(t.column('IVAR'), 'IVAR') : new Float32Array(wavelength.length).fill(1),
          mask: t.has('ANDMASK') ? toMask(t.column('ANDMASK'), 'ANDMASK') : null,
        });
      }
      const c = combineArms(arms, fileName);
      return {
        meta: lamostMeta(h, 'lamost-mrs', fileName),
        wavelength: c.wavelength,
        medium: mediumFrom(h, 'vacuum'),
        flux: c.flux,
        ivar: c.ivar,
        mask: c.mask,
        sky: null,
        arms,
      };
    }, fileName);
  },
};
