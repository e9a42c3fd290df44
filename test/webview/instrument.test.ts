// The plot as an instrument (issue 5, items 5–7) in headless Chromium: error band, masked pixels
// out of autoscaling, sky overlay, redshift-following line markers, rest/observed frame,
// smoothing, the keyboard cheat-sheet and view state that survives a recreated webview.
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import { readSpectrumFile } from '../../src/core/spectrum/open';
import { Viewer } from './harness';
import { fixture } from '../support/paths';

const LAMOST = 'spec-55862-B6212_sp06-025.fits';
const SDSS = 'sdss_dr18_0358-51818-0504.fits';
const RED: [number, number, number] = [0xf1, 0x4c, 0x4c];
const GREEN: [number, number, number] = [0x89, 0xd1, 0x85];
const ORANGE: [number, number, number] = [0xd1, 0x86, 0x16];

async function canvasHash(v: Viewer): Promise<string> {
  return v.page.evaluate(() => {
    const c = (globalThis as any).document.querySelector('.sv-plot canvas');
    const d: Uint8ClampedArray = c.getContext('2d').getImageData(0, 0, c.width, c.height).data;
    let h = 2166136261;
    for (let i = 0; i < d.length; i += 7) h = Math.imul(h ^ d[i], 16777619) >>> 0;
    return h.toString(16);
  });
}

/** Press a key on the plot and wait for the resulting render report. */
async function press(v: Viewer, key: string) {
  const n = await v.mark();
  await v.page.keyboard.press(key);
  const r = await v.waitForNextReport(n);
  await v.page.evaluate(() => new Promise((r) => (globalThis as any).requestAnimationFrame(() => r(null))));
  return r;
}

describe('plot as an instrument (headless Chromium)', () => {
  test('masked pixels drawn in their own colour and kept out of autoscaling; error band toggles', async () => {
    const v = await Viewer.open();
    try {
      await v.load(LAMOST);
      const r = await v.waitForReport((x) => x.view === 'plot' && x.drawnPoints > 0);
      // The y range comes from good pixels only (mask == 0, ivar > 0), padded by 6 %.
      const s = readSpectrumFile(fs.readFileSync(fixture(LAMOST)), LAMOST).get(0);
      let lo = Infinity, hi = -Infinity, bad = 0, badMax = -Infinity;
      for (let i = 0; i < s.flux.length; i++) {
        const ok = s.mask![i] === 0 && s.ivar![i] > 0 && Number.isFinite(s.flux[i]);
        if (ok) { lo = Math.min(lo, s.flux[i]); hi = Math.max(hi, s.flux[i]); } else { bad++; badMax = Math.max(badMax, s.flux[i]); }
      }
      assert.ok(bad > 0, 'the LAMOST fixture has masked pixels');
      const pad = (hi - lo) * 0.06;
      assert.ok(Math.abs(r.yRange![0] - (lo - pad)) < 1e-3 && Math.abs(r.yRange![1] - (hi + pad)) < 1e-3, `y range ${r.yRange} from good pixels ${lo}..${hi}`);
      assert.ok((await v.countColour(RED, 30)) > 50, 'masked pixels drawn in the theme red');
      await v.page.locator('.sv-plot').focus();
      await press(v, 'm');
      assert.ok((await v.countColour(RED, 30)) < 5, 'm hides masked pixels');
      assert.equal(await v.page.locator('.sv-toggle-masked').evaluate((e: any) => e.checked), false, 'toolbar checkbox follows the key');
      await press(v, 'm');

      const withBand = await canvasHash(v);
      await press(v, 'e');
      const noBand = await canvasHash(v);
      assert.notEqual(withBand, noBand, 'e removes the error band');
      await press(v, 'e');
      assert.equal(await canvasHash(v), withBand, 'and e brings it back identically');
    } finally {
      await v.close();
    }
  });

  test('sky overlay where the file has one', async () => {
    const v = await Viewer.open();
    try {
      await v.load(SDSS);
      await v.waitForReport((x) => x.view === 'plot' && x.drawnPoints > 0);
      const before = await v.countColour(GREEN, 25);
      await v.page.locator('.sv-plot').focus();
      await press(v, 'k');
      const after = await v.countColour(GREEN, 25);
      assert.ok(after > before + 200, `sky drawn in the theme green (${before} → ${after})`);
      assert.match(await v.page.locator('.sv-meta-table').innerText(), /Sky\s+available/);
    } finally {
      await v.close();
    }
  });

  test('line markers follow the redshift; rest/observed frame switch states the convention', async () => {
    const v = await Viewer.open();
    try {
      await v.load(SDSS); // z = 0.0472, vacuum wavelengths
      const obs = await v.waitForReport((x) => x.view === 'plot' && x.drawnPoints > 0);
      assert.match(obs.axisLabel, /vacuum, observed frame/);
      assert.ok((await v.countColour(ORANGE, 20)) > 200, 'default Balmer/Ca II/Na I markers drawn');
      await v.page.locator('.sv-plot').focus();
      // Zoom on Hα: observed at 6564.61 × (1 + z) ≈ 6874.7 Å (vacuum); the marker must be in view there.
      const z = 0.04723230376839638;
      const haObs = 6564.61 * (1 + z);
      let n = await v.mark();
      await v.send({ type: 'viewCommand', command: { kind: 'zoomTo', min: haObs - 20, max: haObs + 20 } });
      await v.waitForNextReport(n);
      const box = await v.plotArea();
      const markerX = await v.page.evaluate(([bx, bw]) => {
        const c = (globalThis as any).document.querySelector('.sv-plot canvas');
        const ctx = c.getContext('2d');
        const dpr = c.width / c.getBoundingClientRect().width;
        const rect = c.getBoundingClientRect();
        // Scan a row near the top of the plotting area for the dashed orange marker.
        const y = Math.round((rect.height * 0.5) * dpr);
        const row = ctx.getImageData(0, y - 20, c.width, 40).data;
        const xs: number[] = [];
        for (let x = 0; x < c.width; x++) {
          for (let dy = 0; dy < 40; dy++) {
            const i = (dy * c.width + x) * 4;
            if (Math.abs(row[i] - 0xd1) < 20 && Math.abs(row[i + 1] - 0x86) < 20 && Math.abs(row[i + 2] - 0x16) < 20 && row[i + 3] > 150) { xs.push(x / dpr + rect.left); break; }
          }
        }
        return xs.length ? xs.reduce((a, b) => a + b, 0) / xs.length : -1;
      }, [box.x, box.width] as const);
      const expected = box.x + box.width / 2; // Hα sits in the middle of a window centred on it
      assert.ok(Math.abs(markerX - expected) < 4, `Hα marker at ${markerX}, expected ${expected}`);

      n = await v.mark();
      await v.page.keyboard.press('r');
      const rest = await v.waitForNextReport(n, (x) => /rest frame/.test(x.axisLabel));
      assert.match(rest.axisLabel, /vacuum, rest frame, z = 0\.04723/);
      assert.ok(Math.abs((rest.xRange![0] + rest.xRange![1]) / 2 - 6564.61) < 0.5, `rest-frame view centred on Hα: ${rest.xRange}`);
      n = await v.mark();
      await v.page.keyboard.press('0');
      const restFull = await v.waitForNextReport(n);
      assert.ok(Math.abs(restFull.xRange![0] - obs.xRange![0] / (1 + z)) < 1e-6, 'rest-frame axis = observed / (1 + z)');
      n = await v.mark();
      await v.page.keyboard.press('l');
      await v.waitForNextReport(n);
      await v.page.evaluate(() => new Promise((r) => (globalThis as any).requestAnimationFrame(() => r(null))));
      assert.ok((await v.countColour(ORANGE, 20)) < 20, 'l turns every marker off');
      // Group toggles from the toolbar.
      await v.page.locator('.sv-line-tio').click();
      assert.equal(await v.page.locator('.sv-line-tio').evaluate((e: any) => e.checked), true);
      await v.screenshot('webview-sdss-rest-frame.png');
    } finally {
      await v.close();
    }
  });

  test('smoothing: kernel and width shown, a clear unsmoothed state, keys s [ ]', async () => {
    const v = await Viewer.open();
    try {
      await v.load(SDSS);
      const raw = await v.waitForReport((x) => x.view === 'plot' && x.drawnPoints > 0);
      assert.equal(raw.smoothing, 'unsmoothed');
      assert.match(await v.page.locator('.sv-smoothing-label').innerText(), /unsmoothed/);
      const rawHash = await canvasHash(v);
      await v.page.locator('.sv-plot').focus();
      let r = await press(v, 's');
      assert.equal(r.smoothing, 'boxcar 5 px');
      assert.notEqual(await canvasHash(v), rawHash, 'the smoothed line differs');
      r = await press(v, ']');
      assert.equal(r.smoothing, 'boxcar 7 px');
      assert.match((await v.page.locator('.sv-plot-status').textContent()) ?? '', /boxcar 7 px/);
      r = await press(v, 's');
      assert.match(r.smoothing, /^gaussian σ \d+ px$/);
      r = await press(v, 's');
      assert.equal(r.smoothing, 'unsmoothed');
      assert.equal(await canvasHash(v), rawHash, 'back to exactly the raw plot');
    } finally {
      await v.close();
    }
  });

  test('DESI arms b/r/z as stored, over the combination (a), each in its own colour', async () => {
    const v = await Viewer.open();
    try {
      await v.load('coadd-sv3-dark-26065.fits', undefined);
      await v.waitForReport((x) => x.view === 'plot' && x.drawnPoints > 0);
      await v.page.locator('.sv-plot').focus();
      let n = await v.mark();
      await v.send({ type: 'viewCommand', command: { kind: 'showSpectrum', index: 2 } });
      await v.waitForNextReport(n, (x) => x.spectrumIndex === 2);
      assert.equal(await v.page.locator('.sv-toggle-arms').isVisible(), true, 'the Arms toggle is offered for multi-arm spectra');
      const CYAN: [number, number, number] = [0x29, 0xb8, 0xdb];
      const MAGENTA: [number, number, number] = [0xbc, 0x3f, 0xbc];
      assert.ok((await v.countColour(CYAN, 20)) < 20, 'arms hidden by default');
      await press(v, 'a');
      assert.ok((await v.countColour(CYAN, 20)) > 100, 'arm B drawn');
      assert.ok((await v.countColour(MAGENTA, 20)) > 100, 'arm R drawn');
      n = await v.mark();
      await v.send({ type: 'viewCommand', command: { kind: 'zoomTo', min: 5600, max: 6000 } });
      await v.waitForNextReport(n);
      await v.page.evaluate(() => new Promise((r) => (globalThis as any).requestAnimationFrame(() => r(null))));
      assert.ok((await v.countColour(CYAN, 20)) > 50 && (await v.countColour(MAGENTA, 20)) > 50, 'both arms visible in the b/r overlap');
      await v.screenshot('webview-desi-arms.png');
      await press(v, 'a');
      assert.ok((await v.countColour(CYAN, 20)) < 20, 'a hides them again');
    } finally {
      await v.close();
    }
  });

  test('robust y range (y) keeps spikes from flattening a noisy spectrum; off by default', async () => {
    const v = await Viewer.open();
    try {
      await v.load('coadd-sv3-dark-26065.fits');
      await v.waitForReport((x) => x.view === 'plot' && x.drawnPoints > 0);
      let n = await v.mark();
      await v.send({ type: 'viewCommand', command: { kind: 'showSpectrum', index: 4 } });
      const full = await v.waitForNextReport(n, (x) => x.spectrumIndex === 4);
      await v.page.locator('.sv-plot').focus();
      const robust = await press(v, 'y');
      const h = (r: typeof full) => r.yRange![1] - r.yRange![0];
      assert.ok(h(robust) < h(full) / 1.5, `robust range ${robust.yRange} much narrower than ${full.yRange}`);
      assert.equal(await v.page.locator('.sv-toggle-robust').evaluate((e: any) => e.checked), true);
      const back = await press(v, 'y');
      assert.deepEqual(back.yRange, full.yRange, 'y again restores the full range of good pixels');
    } finally {
      await v.close();
    }
  });

  test('axis labels are drawn in VS Code\'s UI font at 11 CSS px, on a HiDPI screen too', async () => {
    for (const dpr of [1, 2]) {
      const v = await Viewer.open({ deviceScaleFactor: dpr });
      try {
        // Record the font of every text the plot draws on its canvas (set up before the page's scripts run).
        await v.page.addInitScript(() => {
          const texts: Array<[string, string]> = ((globalThis as any).__texts = []);
          const proto = (globalThis as any).CanvasRenderingContext2D.prototype;
          const fillText = proto.fillText;
          proto.fillText = function (this: any, text: string, ...rest: unknown[]) {
            texts.push([String(text), this.font]);
            return fillText.call(this, text, ...rest);
          };
        });
        await v.load(LAMOST);
        await v.waitForReport((x) => x.view === 'plot' && x.drawnPoints > 0);
        const { texts, family } = await v.page.evaluate(() => ({
          texts: (globalThis as any).__texts as Array<[string, string]>,
          family: (globalThis as any).getComputedStyle((globalThis as any).document.body).fontFamily as string,
        }));
        const ticks = texts.filter(([t]) => /^\d{1,2},\d{3}$/.test(t)); // wavelength tick labels (Å), e.g. 5,000
        assert.ok(ticks.length >= 3, `tick labels drawn: ${JSON.stringify(texts.slice(0, 8))}`);
        for (const [t, font] of ticks) assert.equal(font, `${11 * dpr}px ${family}`, `tick ${t} at dpr ${dpr}`);
      } finally {
        await v.close();
      }
    }
  });

  test('keyboard cheat-sheet: ? shows every shortcut, Esc closes', async () => {
    const v = await Viewer.open();
    try {
      await v.load(LAMOST);
      await v.waitForReport((x) => x.view === 'plot');
      await v.page.locator('.sv-plot').focus();
      await v.page.keyboard.press('?');
      const sheet = v.page.locator('.sv-cheat');
      assert.ok(await sheet.isVisible());
      const text = await sheet.innerText();
      for (const k of ['drag', 'shift-drag', '+ / −', 'n / p', 'e', 'm', 'k', 'r', 'l', 's', '[ / ]', '?']) assert.ok(text.includes(k), `lists ${k}`);
      await v.screenshot('webview-cheatsheet.png');
      await v.page.keyboard.press('Escape');
      assert.equal(await sheet.isVisible(), false);
    } finally {
      await v.close();
    }
  });

  test('view state survives the webview being destroyed and recreated (setState/getState)', async () => {
    const first = await Viewer.open();
    let saved: unknown;
    let shown: { xRange: [number, number] | null; smoothing: string };
    try {
      await first.load('coadd-sv3-dark-26065.fits');
      await first.waitForReport((x) => x.view === 'plot' && x.drawnPoints > 0);
      await first.page.locator('.sv-plot').focus();
      let n = first.reportCount;
      await first.page.keyboard.press('n');
      await first.page.keyboard.press('n');
      await first.waitForNextReport(n, (x) => x.spectrumIndex === 2);
      n = first.reportCount;
      await first.send({ type: 'viewCommand', command: { kind: 'zoomTo', min: 6000, max: 6500 } });
      await first.waitForNextReport(n, (x) => x.xRange?.[0] === 6000);
      await press(first, 's');
      await press(first, 'k');
      const last = first.reports.at(-1)!;
      shown = { xRange: last.xRange, smoothing: last.smoothing };
      saved = first.savedState;
      assert.ok(saved, 'state saved through setState');
    } finally {
      await first.close();
    }
    const second = await Viewer.open({ state: saved });
    try {
      await second.load('coadd-sv3-dark-26065.fits');
      const r = await second.waitForReport((x) => x.view === 'plot' && x.drawnPoints > 0);
      assert.equal(r.spectrumIndex, 2, 'same spectrum');
      assert.deepEqual(r.xRange, shown.xRange, 'same zoom');
      assert.equal(r.smoothing, shown.smoothing, 'same smoothing');
      assert.equal(await second.page.locator('.sv-toggle-sky').evaluate((e: any) => e.checked), true, 'same toggles');
    } finally {
      await second.close();
    }
  });
});
