// Spectral line and molecular band-head markers, and the air <-> vacuum wavelength conversion.
// Wavelengths are AIR, in Å, as tabulated in docs/spec-o3-protocol.md §8; SDSS, DESI and LAMOST
// pipelines give VACUUM wavelengths, so markers are converted before being drawn on those spectra.
// Lives in src/shared so both the webview (markers) and the host/core can use it; no imports.

export type LineGroupId =
  | 'balmer'
  | 'hei'
  | 'heii'
  | 'caii'
  | 'nai'
  | 'mgb'
  | 'gband'
  | 'tio'
  | 'vo'
  | 'c2'
  | 'cn'
  | 'zro'
  | 'sky';

export interface LineMarker {
  label: string;
  /** Air wavelength, Å (rest frame; for 'sky' the observed frame — night sky and telluric do not redshift). */
  air: number;
  /** Band head (molecular band, drawn with a shaded wedge toward the band) rather than an atomic line. */
  band?: boolean;
  /** For telluric absorption bands: end of the band, Å (air). */
  airEnd?: number;
}

export interface LineGroup {
  id: LineGroupId;
  name: string;
  /** Shown by default when a spectrum opens. */
  defaultOn: boolean;
  /** True for features at rest in the observatory frame (night sky, telluric): they ignore the redshift. */
  observedFrame?: boolean;
  lines: LineMarker[];
}

export const LINE_GROUPS: readonly LineGroup[] = [
  {
    id: 'balmer', name: 'Balmer', defaultOn: true,
    lines: [
      { label: 'Hα', air: 6562.8 }, { label: 'Hβ', air: 4861.3 }, { label: 'Hγ', air: 4340.5 },
      { label: 'Hδ', air: 4101.7 }, { label: 'Hε', air: 3970.1 },
    ],
  },
  {
    id: 'hei', name: 'He I', defaultOn: false,
    lines: [4471, 4922, 5016, 5876, 6678, 7065].map((w) => ({ label: `He I ${w}`, air: w })),
  },
  {
    id: 'heii', name: 'He II', defaultOn: false,
    lines: [4686, 4200, 4541].map((w) => ({ label: `He II ${w}`, air: w })),
  },
  {
    id: 'caii', name: 'Ca II H&K + triplet', defaultOn: true,
    lines: [
      { label: 'Ca II K', air: 3933.7 }, { label: 'Ca II H', air: 3968.5 },
      { label: 'Ca II 8498', air: 8498.0 }, { label: 'Ca II 8542', air: 8542.1 }, { label: 'Ca II 8662', air: 8662.1 },
    ],
  },
  {
    id: 'nai', name: 'Na I', defaultOn: true,
    lines: [
      { label: 'Na D2', air: 5890.0 }, { label: 'Na D1', air: 5895.9 },
      { label: 'Na I 8183', air: 8183.3 }, { label: 'Na I 8195', air: 8194.8 },
    ],
  },
  {
    id: 'mgb', name: 'Mg b', defaultOn: false,
    lines: [{ label: 'Mg b 5167', air: 5167.3 }, { label: 'Mg b 5173', air: 5172.7 }, { label: 'Mg b 5184', air: 5183.6 }],
  },
  { id: 'gband', name: 'G band', defaultOn: false, lines: [{ label: 'G band', air: 4300, band: true }] },
  {
    id: 'tio', name: 'TiO', defaultOn: false,
    lines: [4762, 4954, 5167, 5448, 5847, 6159, 6651, 7054, 7589, 8432].map((w) => ({ label: `TiO ${w}`, air: w, band: true })),
  },
  { id: 'vo', name: 'VO', defaultOn: false, lines: [7400, 7900].map((w) => ({ label: `VO ${w}`, air: w, band: true })) },
  {
    id: 'c2', name: 'C₂ Swan', defaultOn: false,
    lines: [4737, 5165, 5636, 6191].map((w) => ({ label: `C₂ ${w}`, air: w, band: true })),
  },
  // CN red system: band heads beyond ~7000 Å (strongest at 7088, 7876, 7945, 8125...).
  { id: 'cn', name: 'CN', defaultOn: false, lines: [7088, 7876, 8125].map((w) => ({ label: `CN ${w}`, air: w, band: true })) },
  { id: 'zro', name: 'ZrO', defaultOn: false, lines: [4640, 5551, 6345, 6474].map((w) => ({ label: `ZrO ${w}`, air: w, band: true })) },
  {
    id: 'sky', name: 'Night sky & telluric', defaultOn: false, observedFrame: true,
    lines: [
      { label: '[O I] 5577', air: 5577.3 }, { label: '[O I] 6300', air: 6300.3 }, { label: '[O I] 6364', air: 6363.8 },
      { label: 'O₂ B', air: 6867, airEnd: 6884 }, { label: 'O₂ A', air: 7594, airEnd: 7621 },
      { label: 'H₂O', air: 7160, airEnd: 7340 }, { label: 'H₂O', air: 8130, airEnd: 8350 },
    ],
  },
];

/**
 * Refractive index of standard air (IAU standard, Morton 1991 ApJS 77, 119; as adopted by
 * Greisen et al. 2006 and the SDSS pipelines), as a function of the VACUUM wavenumber σ in μm⁻¹.
 */
export function airRefractiveIndex(vacuumWavelength: number): number {
  const s2 = (1e4 / vacuumWavelength) ** 2;
  return 1 + 6.4328e-5 + 2.94981e-2 / (146 - s2) + 2.554e-4 / (41 - s2);
}

/** Vacuum → air (Å). Valid above 2000 Å; shorter wavelengths are returned unchanged (air is opaque there anyway). */
export function vacuumToAir(vacuum: number): number {
  if (!(vacuum >= 2000)) return vacuum;
  return vacuum / airRefractiveIndex(vacuum);
}

/** Air → vacuum (Å), inverting {@link vacuumToAir} by fixed-point iteration (converges to < 1e-8 Å in 3 steps). */
export function airToVacuum(air: number): number {
  if (!(air >= 2000)) return air;
  let vac = air;
  for (let i = 0; i < 4; i++) vac = air * airRefractiveIndex(vac);
  return vac;
}

/** Where a marker sits on the plot's axis for the given medium, frame and redshift. */
export function markerPosition(
  airRest: number,
  opts: { medium: 'air' | 'vacuum'; redshift: number; restFrame: boolean; observedFrameFeature: boolean },
): number {
  const base = opts.medium === 'vacuum' ? airToVacuum(airRest) : airRest;
  if (opts.observedFrameFeature) return opts.restFrame ? base / (1 + opts.redshift) : base;
  return opts.restFrame ? base : base * (1 + opts.redshift);
}
