// DESI coadd and per-exposure spectra files (many spectra per file, arms B/R/Z as images
// Npix × Nspec), and redrock redshift catalogues. Listing reads FIBERMAP and the small wavelength
// HDUs; `get(i)` reads only row i of each arm's FLUX/IVAR/MASK images.
import { SpecVetError } from '../../errors';
import { PlainImage } from '../../fits';
import type { FitsFile, FitsHdu, FitsTable } from '../../fits';
import type { CatalogRow, Spectrum, SpectrumArm, SpectrumFormat, SpectrumSummary } from '../model';
import { combineArms, unionGrid } from '../combine';
import { AdaptedFile, SpectrumAdapter, finite, fluxUnitText, hduByName, mediumFrom, str, toFloat32, toFloat64, toMask } from './common';

const DESI_UNIT = '1e-17 erg/s/cm²/Å';

interface ArmHdus {
  name: string;
  wavelength: FitsHdu;
  flux: FitsHdu;
  ivar: FitsHdu | undefined;
  mask: FitsHdu | undefined;
}

function findArms(fits: FitsFile): ArmHdus[] {
  const arms: ArmHdus[] = [];
  for (const h of fits.hdus) {
    const m = /^([A-Z0-9]+)_WAVELENGTH$/i.exec(h.name);
    if (!m || h.kind !== 'image') continue;
    const flux = hduByName(fits, `${m[1]}_FLUX`);
    if (!flux || flux.kind !== 'image') continue;
    arms.push({ name: m[1].toUpperCase(), wavelength: h, flux, ivar: hduByName(fits, `${m[1]}_IVAR`), mask: hduByName(fits, `${m[1]}_MASK`) });
  }
  return arms;
}

function isDesiSpectra(fits: FitsFile): boolean {
  const fm = hduByName(fits, 'FIBERMAP');
  return !!fm && fm.kind === 'bintable' && fm.table().has('TARGETID') && findArms(fits).length > 0;
}

function adaptDesi(fits: FitsFile, fileName: string, format: SpectrumFormat): AdaptedFile {
  const fibermap = hduByName(fits, 'FIBERMAP')!.table();
  const arms = findArms(fits);
  const nSpec = fibermap.nRows;
  const grids: Float64Array[] = [];
  for (const arm of arms) {
    const wl = arm.wavelength.image();
    const flux = arm.flux.image();
    if (wl.shape.length !== 1) throw new SpecVetError('spectrum-format', `${arm.name}_WAVELENGTH is not 1-D`, arm.wavelength.where);
    if (flux.shape.length !== 2 || flux.shape[0] !== wl.shape[0] || flux.shape[1] !== nSpec) {
      throw new SpecVetError('spectrum-format', `${arm.name}_FLUX is ${flux.shape.join('×')}, expected ${wl.shape[0]}×${nSpec} (pixels × FIBERMAP rows)`, arm.flux.where);
    }
    for (const extra of [arm.ivar, arm.mask]) {
      if (extra && extra.kind === 'image' && extra.image().length !== flux.length) {
        throw new SpecVetError('spectrum-format', `${extra.name} does not match ${arm.name}_FLUX in size`, extra.where);
      }
    }
    grids.push(toFloat64(wl.read(), `${arm.name}_WAVELENGTH`));
  }
  const union = unionGrid(grids, fileName);
  const medium = mediumFrom(arms[0].wavelength.header, 'vacuum');
  const fluxUnit = fluxUnitText(str(arms[0].flux.header, 'BUNIT'), DESI_UNIT);

  const targetIds = idColumn(fibermap, 'TARGETID');
  const ra = optionalNumbers(fibermap, 'TARGET_RA');
  const dec = optionalNumbers(fibermap, 'TARGET_DEC');
  const fiber = optionalNumbers(fibermap, 'FIBER');
  const mjd = optionalNumbers(fibermap, 'MJD');
  const scoresHdu = hduByName(fits, 'SCORES');
  const scores = scoresHdu && scoresHdu.kind === 'bintable' && scoresHdu.table().nRows === nSpec ? scoresHdu.table() : null;
  const snrCols = arms.map((a) => {
    const col = ['MEDIAN_COADD_SNR_', 'MEDIAN_CALIB_SNR_'].map((p) => p + a.name).find((c) => scores?.has(c));
    return { band: a.name.toLowerCase(), values: col && scores ? optionalNumbers(scores, col) : null };
  });

  // Empty fibres: unassigned (TARGETID < 0) or no flux at all in any arm. One pass per arm image.
  const zeroFlux = new Uint8Array(nSpec).fill(1);
  for (const arm of arms) {
    const img = arm.flux.image();
    const zeros = img instanceof PlainImage ? img.zeroRows() : null;
    if (zeros) {
      for (let s = 0; s < nSpec; s++) zeroFlux[s] &= zeros[s];
      continue;
    }
    const npix = img.shape[0];
    const all = toFloat32(img.read(), `${arm.name}_FLUX`);
    for (let s = 0; s < nSpec; s++) {
      if (!zeroFlux[s]) continue;
      for (let i = s * npix, e = i + npix; i < e; i++) if (all[i] !== 0) { zeroFlux[s] = 0; break; }
    }
  }
  const empty = (i: number) => targetIds[i].startsWith('-') || zeroFlux[i] === 1;

  const [wmin, wmax] = [union.grid[0], union.grid[union.grid.length - 1]];
  const spectra: SpectrumSummary[] = [];
  for (let i = 0; i < nSpec; i++) {
    spectra.push({
      index: i,
      id: targetIds[i],
      nPixels: union.grid.length,
      wavelengthMin: wmin,
      wavelengthMax: wmax,
      redshift: null,
      objectClass: null,
      ra: ra?.[i] ?? null,
      dec: dec?.[i] ?? null,
      empty: empty(i),
    });
  }

  return {
    spectra,
    catalog: null,
    get(index: number): Spectrum {
      if (!Number.isInteger(index) || index < 0 || index >= nSpec) {
        throw new SpecVetError('spectrum-index', `spectrum ${index} requested but the file holds ${nSpec} spectra (0…${nSpec - 1})`, fileName);
      }
      const armData: SpectrumArm[] = arms.map((arm, a) => {
        const npix = grids[a].length;
        const flux = toFloat32(arm.flux.image().row(index), `${arm.name}_FLUX`);
        const ivar = arm.ivar && arm.ivar.kind === 'image' ? toFloat32(arm.ivar.image().row(index), `${arm.name}_IVAR`) : new Float32Array(npix);
        let mask: Int32Array | null = null;
        // A mask we cannot decode (e.g. RICE tiles) is left out rather than failing the spectrum.
        if (arm.mask && (arm.mask.kind === 'image' || (arm.mask.kind === 'compressed-image' && !arm.mask.skipped))) {
          mask = toMask(arm.mask.image().row(index), `${arm.name}_MASK`);
        }
        return { name: arm.name, wavelength: grids[a], flux, ivar, mask };
      });
      const c = combineArms(armData, fileName, union);
      const snr: Record<string, number> = {};
      for (const s of snrCols) if (s.values && s.values[index] !== null) snr[s.band] = s.values[index]!;
      return {
        index,
        meta: {
          survey: 'DESI',
          format,
          id: targetIds[index],
          name: null,
          objectClass: null,
          subclass: null,
          redshift: null,
          redshiftSource: null,
          ra: ra?.[index] ?? null,
          dec: dec?.[index] ?? null,
          snr,
          mjd: mjd?.[index] ?? null,
          plate: null,
          fiber: fiber?.[index] ?? null,
          targetId: targetIds[index],
          fluxUnit,
        },
        wavelength: c.wavelength,
        medium,
        flux: c.flux,
        ivar: c.ivar,
        mask: c.mask,
        sky: null,
        arms: armData,
        empty: empty(index),
      };
    },
  };
}

/** Integer identifiers as exact decimal strings (64-bit TARGETIDs exceed 2^53). */
function idColumn(t: FitsTable, name: string): string[] {
  const col = t.find(name);
  if (!col || col.repeat !== 1) throw new SpecVetError('spectrum-format', `${name} column missing or not scalar`, t.where);
  const v = t.read(col);
  if (Array.isArray(v)) return v.map((x) => String(x ?? ''));
  return Array.from(v as ArrayLike<number | bigint>, (x) => x.toString());
}

function optionalNumbers(t: FitsTable, name: string): Array<number | null> | null {
  const col = t.find(name);
  if (!col || col.repeat !== 1 || col.unsupported || col.type === 'A' || col.type === 'L' || col.type === 'X') return null;
  const v = t.read(col) as ArrayLike<number | bigint>;
  return Array.from(v, (x) => finite(x));
}

export const desiCoaddAdapter: SpectrumAdapter = {
  format: 'desi-coadd',
  survey: 'DESI',
  detect: (fits) => isDesiSpectra(fits) && !!hduByName(fits, 'EXP_FIBERMAP'),
  adapt: (fits, fileName) => adaptDesi(fits, fileName, 'desi-coadd'),
};

export const desiSpectraAdapter: SpectrumAdapter = {
  format: 'desi-spectra',
  survey: 'DESI',
  detect: (fits) => isDesiSpectra(fits) && !hduByName(fits, 'EXP_FIBERMAP'),
  adapt: (fits, fileName) => adaptDesi(fits, fileName, 'desi-spectra'),
};

export const desiRedrockAdapter: SpectrumAdapter = {
  format: 'desi-redrock',
  survey: 'DESI',
  detect(fits) {
    const r = hduByName(fits, 'REDSHIFTS') ?? hduByName(fits, 'ZBEST');
    return !!r && r.kind === 'bintable' && r.table().has('TARGETID') && r.table().has('Z') && r.table().has('SPECTYPE');
  },
  adapt(fits, fileName) {
    const t = (hduByName(fits, 'REDSHIFTS') ?? hduByName(fits, 'ZBEST'))!.table();
    const ids = idColumn(t, 'TARGETID');
    const z = optionalNumbers(t, 'Z');
    const zErr = optionalNumbers(t, 'ZERR');
    const zWarn = optionalNumbers(t, 'ZWARN');
    const dchi2 = optionalNumbers(t, 'DELTACHI2');
    const spectype = t.column('SPECTYPE') as string[];
    const subtype = t.has('SUBTYPE') ? (t.column('SUBTYPE') as string[]) : null;
    const catalog: CatalogRow[] = ids.map((id, i) => ({
      targetId: id,
      z: z?.[i] ?? NaN,
      zErr: zErr?.[i] ?? null,
      zWarn: zWarn?.[i] ?? null,
      spectype: spectype[i] ?? '',
      subtype: subtype?.[i] ?? '',
      deltaChi2: dchi2?.[i] ?? null,
    }));
    return {
      spectra: [],
      catalog,
      get(index: number): Spectrum {
        throw new SpecVetError('spectrum-index', `spectrum ${index} requested but a redrock catalogue holds no spectra (${catalog.length} redshift rows)`, fileName);
      },
    };
  },
};
