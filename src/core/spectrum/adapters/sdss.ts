// SDSS spec-PLATE-MJD-FIBER (DR8+: COADD table, SPECOBJ row) and DR7-era spSpec (5×N image).
// SDSS wavelengths are vacuum (VACUUM = T); the header decides when it says otherwise.
import { SpecVetError } from '../../errors';
import type { FitsFile, FitsHeader, FitsTable } from '../../fits';
import type { SpectrumMeta } from '../model';
import {
  SpectrumAdapter, hasLogLinear, finite, fluxUnitText, hduByName, logLinearWavelength, mediumFrom, num, singleSpectrumFile,
  str, toFloat32, toFloat64, toMask, wavelengthFromLog10,
} from './common';

const SDSS_UNIT = '1e-17 erg/s/cm²/Å';

/** "0358-51818-0504": plate 4 digits, MJD, fibre 4 digits, as SDSS names its files. */
export function sdssId(plate: number | null, mjd: number | null, fiber: number | null): string | null {
  if (plate === null || mjd === null || fiber === null) return null;
  return `${String(plate).padStart(4, '0')}-${mjd}-${String(fiber).padStart(4, '0')}`;
}

function cellNumber(t: FitsTable | null, name: string): number | null {
  if (!t || !t.has(name) || t.nRows < 1) return null;
  const v = t.value(name, 0);
  return typeof v === 'number' || typeof v === 'bigint' ? finite(v) : null;
}

function cellString(t: FitsTable | null, name: string): string | null {
  if (!t || !t.has(name) || t.nRows < 1) return null;
  const v = t.value(name, 0);
  return typeof v === 'string' && v.trim() !== '' ? v.trim() : null;
}

export const sdssSpecAdapter: SpectrumAdapter = {
  format: 'sdss-spec',
  survey: 'SDSS',
  detect(fits: FitsFile): boolean {
    const c = hduByName(fits, 'COADD') ?? fits.hdus[1];
    if (!c || c.kind !== 'bintable') return false;
    const t = c.table();
    return t.has('loglam') && t.has('flux') && t.has('ivar');
  },
  adapt(fits, fileName) {
    const coadd = hduByName(fits, 'COADD') ?? fits.hdus[1];
    const t = coadd.table();
    // SDSS-I–IV files carry SPECOBJ; SDSS-V (BOSS DR18+) calls the same row SPALL.
    const specHdu = hduByName(fits, 'SPECOBJ') ?? hduByName(fits, 'SPALL');
    const specobj = specHdu && specHdu.kind === 'bintable' ? specHdu.table() : null;
    const h = fits.hdus[0].header;
    return singleSpectrumFile(() => {
      const wavelength = wavelengthFromLog10(toFloat64(t.column('loglam'), 'loglam'));
      const flux = toFloat32(t.column('flux'), 'flux');
      const plate = cellNumber(specobj, 'PLATE') ?? cellNumber(specobj, 'FIELD') ?? num(h, 'PLATEID');
      const mjd = cellNumber(specobj, 'MJD') ?? num(h, 'MJD');
      const fiber = cellNumber(specobj, 'FIBERID') ?? num(h, 'FIBERID');
      const z = cellNumber(specobj, 'Z');
      const snr: Record<string, number> = {};
      if (specobj?.has('SN_MEDIAN')) {
        const sn = toFloat64(specobj.column('SN_MEDIAN', 0, 1), 'SN_MEDIAN');
        ['u', 'g', 'r', 'i', 'z'].forEach((b, i) => {
          if (i < sn.length && Number.isFinite(sn[i])) snr[b] = sn[i];
        });
      }
      const meta: SpectrumMeta = {
        survey: 'SDSS',
        format: 'sdss-spec',
        id: sdssId(plate, mjd, fiber) ?? fileName,
        name: null,
        objectClass: cellString(specobj, 'CLASS'),
        subclass: cellString(specobj, 'SUBCLASS'),
        redshift: z,
        redshiftSource: z === null ? null : { origin: `${specHdu!.name}.Z`, error: cellNumber(specobj, 'Z_ERR') },
        // PLUG_RA/DEC is the object; the primary RA/DEC is the telescope boresight.
        ra: cellNumber(specobj, 'PLUG_RA') ?? num(h, 'PLUG_RA') ?? num(h, 'RA'),
        dec: cellNumber(specobj, 'PLUG_DEC') ?? num(h, 'PLUG_DEC') ?? num(h, 'DEC'),
        snr,
        mjd,
        plate,
        fiber,
        targetId: cellString(specobj, 'SPECOBJID'),
        fluxUnit: fluxUnitText(str(h, 'BUNIT'), SDSS_UNIT),
      };
      return {
        meta,
        wavelength,
        medium: mediumFrom(h, 'vacuum'),
        flux,
        ivar: toFloat32(t.column('ivar'), 'ivar'),
        mask: t.has('and_mask') ? toMask(t.column('and_mask'), 'and_mask') : null,
        sky: t.has('sky') ? toFloat32(t.column('sky'), 'sky') : null,
      };
    }, fileName);
  },
};

/** SPEC_CLN of the DR7 spectro1d pipeline. */
const SPEC_CLN: Record<number, string | null> = { 0: null, 1: 'STAR', 2: 'GALAXY', 3: 'QSO', 4: 'HIZ_QSO', 5: 'SKY', 6: 'STAR_LATE', 7: 'GAL_EM' };

export const sdssSpSpecAdapter: SpectrumAdapter = {
  format: 'sdss-spspec',
  survey: 'SDSS',
  detect(fits) {
    const p = fits.hdus[0];
    if (p.kind !== 'image') return false;
    const img = p.image();
    const sdss = /SDSS/i.test(p.header.string('TELESCOP') ?? '') || (fits.hdus.length > 1 && fits.hdus.slice(1).every((h) => h.kind === 'bintable'));
    return img.shape.length === 2 && img.shape[1] >= 3 && img.shape[1] <= 5 && sdss && hasLogLinear(p.header);
  },
  adapt(fits, fileName) {
    const p = fits.hdus[0];
    const h: FitsHeader = p.header;
    return singleSpectrumFile(() => {
      const img = p.image();
      const n = img.shape[0];
      const wavelength = logLinearWavelength(h, n, p.where);
      // Rows per the DR7 data model (0 spectrum, 1 continuum-subtracted, 2 error, 3 mask),
      // confirmed by the ARRAYn keywords when the file has them.
      const rowOf = (label: string, fallback: number): number => {
        for (let r = 0; r < img.shape[1]; r++) if ((str(h, `ARRAY${r + 1}`) ?? '').toUpperCase() === label) return r;
        return fallback;
      };
      const flux = toFloat32(img.row(rowOf('SPECTRUM', 0)), 'flux');
      // The error row holds 1σ: ivar = 1/σ² where σ > 0, else 0 (no information).
      const err = toFloat32(img.row(rowOf('ERROR', 2)), 'error');
      const ivar = new Float32Array(n);
      for (let i = 0; i < n; i++) ivar[i] = err[i] > 0 && Number.isFinite(err[i]) ? 1 / (err[i] * err[i]) : 0;
      const maskRow = rowOf('MASK', 3);
      const mask = maskRow < img.shape[1] ? toMask(img.row(maskRow), 'mask') : null;
      const plate = num(h, 'PLATEID');
      const mjd = num(h, 'MJD');
      const fiber = num(h, 'FIBERID');
      const z = num(h, 'Z');
      const cln = num(h, 'SPEC_CLN');
      const meta: SpectrumMeta = {
        survey: 'SDSS',
        format: 'sdss-spspec',
        id: sdssId(plate, mjd, fiber) ?? fileName,
        name: null,
        objectClass: (cln !== null ? SPEC_CLN[cln] : undefined) ?? str(h, 'OBJTYPE'),
        subclass: null,
        redshift: z,
        redshiftSource: z === null ? null : { origin: 'header Z', error: num(h, 'Z_ERR') },
        ra: num(h, 'RAOBJ') ?? num(h, 'RA'),
        dec: num(h, 'DECOBJ') ?? num(h, 'DEC'),
        snr: Object.fromEntries((['u', 'g', 'r', 'i', 'z'] as const).flatMap((b) => {
          const v = num(h, `SN_${b.toUpperCase()}`);
          return v === null ? [] : [[b, v]];
        })),
        mjd,
        plate,
        fiber,
        targetId: null,
        fluxUnit: fluxUnitText(str(h, 'BUNIT'), SDSS_UNIT),
      };
      if (flux.length !== wavelength.length) throw new SpecVetError('spectrum-format', 'flux and wavelength lengths differ', p.where);
      return {
        meta,
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
