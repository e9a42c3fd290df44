// Renderer benchmark: median milliseconds per image for the overview and for zooms over all the
// reference views (manifest arrays), the zoom tool through the reader, and PNG sizes. When Debian's
// python3-matplotlib is installed, the reference recipe is timed on the same arrays in the same run
// and the speed-up printed. Then the render worker pool: images per second over all views with every
// core drawing, against one thread, and what the main thread still spends per image.
// Prints figures and targets; never fails on a missed target.
import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { renderSpectrumImage, renderSpectrumScene } from '../src/core/render/index';
import { paintScene } from '../src/core/render/paint';
import { configureRenderPool, renderInPool, renderPoolInfo, shutdownRenderPool } from '../src/core/render/pool';
import { runZoomTool } from '../src/core/render/tool';
import { openSpectrumFile } from '../src/core/spectrum/open';
import { mainThreadCpuMs } from '../test/support/cpu';

interface Entry {
  fixture: string;
  wavelengthRest: number[];
  flux: number[];
  renders: Array<{ window: [number, number] | null; png: string }>;
}

function root(): string {
  let dir = __dirname;
  while (!fs.existsSync(path.join(dir, 'package.json'))) dir = path.dirname(dir);
  return dir;
}

const ROOT = root();
const MANIFEST = path.join(ROOT, 'test/fixtures/reference/manifest.json');
const manifest: Entry[] = JSON.parse(fs.readFileSync(MANIFEST, 'utf8'));
const ROUNDS = Number(process.env.SPECVET_BENCH_ROUNDS ?? 7);

const median = (xs: number[]): number => {
  const s = [...xs].sort((a, b) => a - b);
  return s.length % 2 ? s[s.length >> 1] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2;
};
const verdict = (ok: boolean): string => (ok ? 'OK' : 'MISSED');

function timeOurs(): Record<'zoom' | 'overview' | 'zoomScene' | 'overviewScene' | 'zoomPaint' | 'overviewPaint' | 'zoomBytes' | 'overviewBytes', number[]> {
  const out = { zoom: [] as number[], overview: [] as number[], zoomScene: [] as number[], overviewScene: [] as number[], zoomPaint: [] as number[], overviewPaint: [] as number[], zoomBytes: [] as number[], overviewBytes: [] as number[] };
  for (let round = 0; round <= ROUNDS; round++) {
    for (const e of manifest) {
      for (const r of e.renders) {
        const input = { wavelength: e.wavelengthRest, flux: e.flux };
        const t0 = performance.now();
        const img = renderSpectrumImage(input, { window: r.window });
        const t1 = performance.now();
        // the parts, timed apart: the scene (layout, ticks, text placement) and its painting
        const scene = renderSpectrumScene(input, { window: r.window });
        const t2 = performance.now();
        paintScene(scene);
        const t3 = performance.now();
        if (round === 0) continue; // warm-up
        if (r.window) {
          out.zoom.push(t1 - t0);
          out.zoomScene.push(t2 - t1);
          out.zoomPaint.push(t3 - t2);
          out.zoomBytes.push(img.png.length);
        } else {
          out.overview.push(t1 - t0);
          out.overviewScene.push(t2 - t1);
          out.overviewPaint.push(t3 - t2);
          out.overviewBytes.push(img.png.length);
        }
      }
    }
  }
  return out;
}

/** The zoom tool end to end from a spectrum read from its FITS file (reading not timed). */
function timeTool(): number[] {
  const times: number[] = [];
  for (const e of manifest) {
    const spectrum = openSpectrumFile(path.join(ROOT, 'test/fixtures/spectra', e.fixture)).get(0);
    for (let round = 0; round <= ROUNDS; round++) {
      for (const r of e.renders) {
        if (!r.window) continue;
        const t = performance.now();
        const res = runZoomTool(spectrum, { wavelength_range: r.window });
        if (!res.ok) throw new Error(res.text);
        if (round > 0) times.push(performance.now() - t);
      }
    }
  }
  return times;
}

// The reference recipe (docs/spec-o3-protocol.md §5) as the reference renders were made.
const PYTHON_RECIPE = String.raw`
import io, json, sys, time
import numpy as np
import matplotlib
matplotlib.use('Agg')
import matplotlib.pyplot as plt
from matplotlib.ticker import MultipleLocator, AutoMinorLocator

def render(wave, flux, window=None, title='Spectrum'):
    wave = np.asarray(wave, float); flux = np.asarray(flux, float)
    ok = np.isfinite(wave) & np.isfinite(flux); wave, flux = wave[ok], flux[ok]
    o = np.argsort(wave); wave, flux = wave[o], flux[o]
    if window is not None:
        m = (wave >= window[0]) & (wave <= window[1]); wave, flux = wave[m], flux[m]
        W = window[1] - window[0]
        fs = (6, 4) if W < 50 else (7, 4.5) if W < 200 else (8, 5) if W < 1000 else (9, 5.5)
    else:
        W = wave.max() - wave.min()
        fs = (10, 6) if W > 3000 else (8, 5) if W > 1000 else (7, 4.5) if W > 200 else (6, 4)
    n = len(wave)
    if n > 10000: fs = (fs[0] * 1.05, fs[1])
    elif n < 50: fs = (fs[0] * 0.95, fs[1])
    fig, ax = plt.subplots(figsize=fs, dpi=80)
    ax.plot(wave, flux, color='blue', linewidth=1.0, alpha=0.8)
    ax.set_xlabel('Wavelength (Å)', fontsize=12, fontweight='bold')
    ax.set_ylabel('Flux', fontsize=12, fontweight='bold')
    ax.set_title(title, fontsize=14, fontweight='bold', pad=20)
    ax.grid(True, which='major', alpha=0.3, linewidth=0.5)
    ax.grid(True, which='minor', alpha=0.1, linewidth=0.3)
    span = wave.max() - wave.min() if n > 1 else W
    for th, ma, mi in [(5000, 1000, 200), (1000, 200, 50), (500, 100, 20), (300, 100, 25), (150, 50, 25), (100, 25, 5), (50, 10, 2), (20, 5, 1), (5, 2, 0.5), (-1e300, 1, 0.2)]:
        if span >= th: break
    ax.xaxis.set_major_locator(MultipleLocator(ma)); ax.xaxis.set_minor_locator(MultipleLocator(mi))
    ax.yaxis.set_minor_locator(AutoMinorLocator())
    ax.tick_params(direction='in', which='both', labelsize=10)
    mw = (wave.min() + wave.max()) / 2; mf = (flux.min() + flux.max()) / 2
    left = wave < mw; low = flux < mf
    counts = {'ul': np.sum(left & ~low), 'ur': np.sum(~left & ~low), 'll': np.sum(left & low), 'lr': np.sum(~left & low)}
    x, y, ha, va = {'ul': (0.02, 0.98, 'left', 'top'), 'ur': (0.98, 0.98, 'right', 'top'), 'll': (0.02, 0.02, 'left', 'bottom'), 'lr': (0.98, 0.02, 'right', 'bottom')}[min(counts, key=counts.get)]
    txt = f'Data points: {n}\nλ range: {wave.min():.1f} - {wave.max():.1f} Å\nFlux range: {flux.min():.2e} - {flux.max():.2e}'
    ax.text(x, y, txt, transform=ax.transAxes, fontsize=9, ha=ha, va=va, bbox=dict(boxstyle='round', facecolor='white', alpha=0.8))
    plt.tight_layout()
    buf = io.BytesIO(); fig.savefig(buf, format='png', dpi=80, bbox_inches='tight'); plt.close(fig)
    return buf.getvalue()

manifest = json.load(open(sys.argv[1])); rounds = int(sys.argv[2])
zoom, overview = [], []
for r in range(rounds + 1):
    for e in manifest:
        for v in e['renders']:
            t = time.perf_counter(); render(e['wavelengthRest'], e['flux'], v['window']); dt = (time.perf_counter() - t) * 1000
            if r: (zoom if v['window'] else overview).append(dt)
print(json.dumps({'zoom': zoom, 'overview': overview, 'version': matplotlib.__version__}))
`;

function timeMatplotlib(): { zoom: number[]; overview: number[]; version: string; python: string } | null {
  for (const python of ['python3', '/usr/bin/python3']) {
    const probe = spawnSync(python, ['-c', 'import matplotlib'], { encoding: 'utf8' });
    if (probe.status !== 0) continue;
    const script = path.join(fs.mkdtempSync(path.join(os.tmpdir(), 'specvet-bench-')), 'recipe.py');
    fs.writeFileSync(script, PYTHON_RECIPE);
    const rounds = Math.max(1, Math.min(ROUNDS, 3));
    const r = spawnSync(python, [script, MANIFEST, String(rounds)], { encoding: 'utf8', maxBuffer: 64 << 20 });
    if (r.status !== 0) {
      console.log(`matplotlib run failed (${python}): ${r.stderr.trim().split('\n').pop()}`);
      return null;
    }
    return { ...JSON.parse(r.stdout.trim().split('\n').pop()!), python };
  }
  return null;
}

/** Every reference view drawn ROUNDS times: on this thread, then by the pool with all workers busy. */
async function timePool(): Promise<void> {
  const jobs = manifest.flatMap((e) => e.renders.map((r) => ({ e, window: r.window })));
  const all = Array.from({ length: ROUNDS }, () => jobs).flat();
  const t0 = performance.now();
  const syncPngs = all.map((j) => Buffer.from(renderSpectrumImage({ wavelength: j.e.wavelengthRest, flux: j.e.flux }, { window: j.window }).png));
  const syncS = (performance.now() - t0) / 1000;

  const size = renderPoolInfo().size;
  configureRenderPool({ size });
  const draw = (j: (typeof jobs)[number]) => renderInPool({ cacheKey: { owner: j.e, variant: 'rest' }, data: () => ({ wavelength: j.e.wavelengthRest, flux: j.e.flux }) }, { window: j.window });
  // Warm-up: start the workers and give each the arrays (what a trajectory's overview does).
  await Promise.all(jobs.map(draw));
  const main0 = mainThreadCpuMs();
  const t1 = performance.now();
  const inFlight = 4 * size;
  let next = 0;
  const poolPngs: Buffer[] = new Array(all.length);
  await Promise.all(
    Array.from({ length: inFlight }, async () => {
      while (next < all.length) {
        const i = next++;
        const j = all[i];
        const img = await draw(j);
        poolPngs[i] = Buffer.from(img.png);
      }
    }),
  );
  const poolS = (performance.now() - t1) / 1000;
  const main1 = mainThreadCpuMs();
  const same = poolPngs.every((b, i) => b.equals(syncPngs[i]));
  const mainPerImage = main0 !== null && main1 !== null ? `, main thread ${((main1 - main0) / all.length).toFixed(2)} ms CPU per image` : '';
  console.log(
    `render pool (${size} workers, ${inFlight} in flight): ${(all.length / poolS).toFixed(0)} images/s vs ${(all.length / syncS).toFixed(0)} images/s on one thread (×${(syncS / poolS).toFixed(2)})${mainPerImage}; PNGs ${same ? 'byte-identical to the synchronous renderer' : 'DIFFER from the synchronous renderer'}  [${all.length} images; load ${os.loadavg()[0].toFixed(1)}]`,
  );
  await shutdownRenderPool();
}

async function main(): Promise<void> {
  const views = manifest.reduce((n, e) => n + e.renders.length, 0);
  const load = os.loadavg()[0];
  console.log(`renderer: ${views} reference views × ${ROUNDS} rounds (after a warm-up round), manifest arrays; load average ${load.toFixed(1)} on ${os.cpus().length} CPUs${load > os.cpus().length ? ' (busy machine: medians inflated, the best times show the unloaded cost)' : ''}`);
  const ours = timeOurs();
  const zoomMs = median(ours.zoom);
  const overviewMs = median(ours.overview);
  console.log(`zoom median ${zoomMs.toFixed(1)} ms (target ≤ 10 ms) ${verdict(zoomMs <= 10)}  [best ${Math.min(...ours.zoom).toFixed(1)} ms; scene ${median(ours.zoomScene).toFixed(1)} ms, paint ${median(ours.zoomPaint).toFixed(1)} ms, the rest PNG]`);
  console.log(`overview median ${overviewMs.toFixed(1)} ms (target ≤ 25 ms) ${verdict(overviewMs <= 25)}  [best ${Math.min(...ours.overview).toFixed(1)} ms; scene ${median(ours.overviewScene).toFixed(1)} ms, paint ${median(ours.overviewPaint).toFixed(1)} ms, the rest PNG]`);
  console.log(`PNG bytes: zoom median ${Math.round(median(ours.zoomBytes) / 1024)} KiB, overview median ${Math.round(median(ours.overviewBytes) / 1024)} KiB`);
  const tool = timeTool();
  console.log(`zoom tool from FITS spectra (rest frame, validation, render): median ${median(tool).toFixed(1)} ms`);

  await timePool();

  const mpl = timeMatplotlib();
  if (!mpl) {
    console.log('matplotlib not available (install Debian python3-matplotlib to time the reference recipe side by side)');
    return;
  }
  const mz = median(mpl.zoom);
  const mo = median(mpl.overview);
  console.log(`matplotlib ${mpl.version} (${mpl.python}), same arrays, Agg, savefig(bbox_inches='tight') to memory:`);
  console.log(`  zoom median ${mz.toFixed(1)} ms → SpecVet ${(mz / zoomMs).toFixed(1)}× faster (target ≥ 10×) ${verdict(mz / zoomMs >= 10)}`);
  console.log(`  overview median ${mo.toFixed(1)} ms → SpecVet ${(mo / overviewMs).toFixed(1)}× faster`);
}

void main().catch((err) => {
  console.error(err);
  process.exit(1);
});
