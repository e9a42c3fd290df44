// The FITS viewer webview in headless Chromium: the built bundle, the extension's page and CSP,
// real fixtures read by the core reader, host messages as the extension sends them.
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import { Viewer } from './harness';
import { fixture } from '../support/paths';

// Page-side code below runs in the browser; these names exist there, not in Node's type world.
declare const document: any;
declare const window: any;
declare const getComputedStyle: any;


const truth = JSON.parse(fs.readFileSync(fixture('truth.json'), 'utf8'));
const LAMOST = 'spec-55862-B6212_sp06-025.fits';
const SDSS = 'sdss_dr18_0358-51818-0504.fits';
const DESI = 'coadd-sv3-dark-26065.fits';
const span = (r: [number, number] | null) => (r ? r[1] - r[0] : NaN);

function assertClean(v: Viewer): void {
  assert.deepEqual(v.cspViolations, [], 'no content-security-policy violations');
  assert.deepEqual(v.consoleErrors, [], 'no errors in the webview console');
  assert.ok(!v.fromWebview.some((m) => m.type === 'webviewError'), 'no webviewError messages');
}

describe('FITS viewer webview (headless Chromium)', () => {
  test('LAMOST spectrum: plot draws, typed arrays arrive, title and axis say what is shown', async () => {
    const v = await Viewer.open();
    try {
      await v.load(LAMOST);
      const r = await v.waitForReport((x) => x.view === 'plot' && x.drawnPoints > 0);
      const t = truth[LAMOST].spectra[0];
      assert.equal(r.nPoints, t.nPixels);
      assert.ok(r.xRange![0] <= t.wavelengthFirst + 1 && r.xRange![1] >= t.wavelengthLast - 1, `full range shown: ${r.xRange}`);
      assert.equal(r.arrayTypes.wavelength, 'Float64Array');
      assert.equal(r.arrayTypes.flux, 'Float32Array');
      assert.equal(r.arrayTypes.ivar, 'Float32Array');
      assert.equal(r.arrayTypes.mask, 'Int32Array');
      assert.match(r.title, /LAMOST/);
      assert.match(r.title, /STAR M2/);
      assert.match(r.axisLabel, /vacuum, observed frame/);
      assert.equal(typeof r.firstPaintMs, 'number');
      assert.ok((await v.inkFraction()) > 0.01, 'canvas has ink');
      assert.ok((await v.countColour([0x37, 0x94, 0xff], 30)) > 300, 'flux drawn in the theme blue');
      const meta = await v.page.locator('.sv-meta-table').innerText();
      assert.match(meta, /M2/);
      assert.match(meta, /99\.135319/);
      await v.screenshot('webview-lamost-dark.png');
      assertClean(v);
    } finally {
      await v.close();
    }
  });

  test('zoom by drag, keyboard zoom and pan, reset by key and double-click, shift-drag pans', async () => {
    const v = await Viewer.open();
    try {
      await v.load(SDSS);
      const full = await v.waitForReport((x) => x.view === 'plot' && x.drawnPoints > 0);
      const box = await v.plotArea();
      const y = box.y + box.height / 2;
      let n = await v.mark();
      await v.page.mouse.move(box.x + box.width * 0.3, y);
      await v.page.mouse.down();
      await v.page.mouse.move(box.x + box.width * 0.4, y, { steps: 4 });
      await v.page.mouse.move(box.x + box.width * 0.5, y, { steps: 4 });
      await v.page.mouse.up();
      const zoomed = await v.waitForNextReport(n, (x) => span(x.xRange) < span(full.xRange) * 0.3);
      const expectA = full.xRange![0] + span(full.xRange) * 0.3;
      assert.ok(Math.abs(zoomed.xRange![0] - expectA) < span(full.xRange) * 0.02, `drag start maps to ${expectA}, got ${zoomed.xRange![0]}`);
      assert.ok(zoomed.drawnPoints < full.drawnPoints + 1);

      await v.page.locator('.sv-plot').focus();
      n = await v.mark();
      await v.page.keyboard.press('+');
      const zin = await v.waitForNextReport(n, (x) => span(x.xRange) < span(zoomed.xRange) * 0.75);
      assert.ok(Math.abs(span(zin.xRange) - span(zoomed.xRange) / 2) < 1e-6 * span(full.xRange) + 0.01, 'plus halves the range');

      n = await v.mark();
      await v.page.keyboard.press('ArrowRight');
      const panned = await v.waitForNextReport(n, (x) => x.xRange![0] !== zin.xRange![0]);
      assert.ok(panned.xRange![0] > zin.xRange![0], 'right arrow pans to longer wavelengths');
      assert.ok(Math.abs(span(panned.xRange) - span(zin.xRange)) < 1e-6, 'pan keeps the width');

      n = await v.mark();
      await v.page.keyboard.press('-');
      const zout = await v.waitForNextReport(n, (x) => span(x.xRange) > span(panned.xRange) * 1.25);
      assert.ok(span(zout.xRange) > span(panned.xRange) * 1.9);

      n = await v.mark();
      await v.page.keyboard.press('0');
      const reset = await v.waitForNextReport(n, (x) => span(x.xRange) >= span(full.xRange));
      assert.deepEqual(reset.xRange, full.xRange, '0 resets to the full range');

      // Shift-drag pans.
      n = await v.mark();
      await v.page.keyboard.press('+');
      await v.page.keyboard.press('+');
      const before2 = await v.waitForNextReport(n, (x) => span(x.xRange) < span(full.xRange) * 0.3);
      n = await v.mark();
      await v.page.keyboard.down('Shift');
      await v.page.mouse.move(box.x + box.width * 0.6, y);
      await v.page.mouse.down();
      await v.page.mouse.move(box.x + box.width * 0.4, y, { steps: 5 });
      await v.page.mouse.up();
      await v.page.keyboard.up('Shift');
      const dragged = await v.waitForNextReport(n, (x) => x.xRange![0] > before2.xRange![0] + 1);
      assert.ok(Math.abs(span(dragged.xRange) - span(before2.xRange)) < 1e-6, 'shift-drag keeps the width');

      // The wheel zooms about the pointer: the wavelength under it stays where it is.
      await v.page.keyboard.press('0');
      const px = box.x + box.width * 0.25;
      const atFull = full.xRange![0] + span(full.xRange) * 0.25;
      n = await v.mark();
      await v.page.mouse.move(px, y);
      await v.page.mouse.wheel(0, -300);
      const wheeled = await v.waitForNextReport(n, (x) => span(x.xRange) < span(full.xRange) * 0.9);
      const atAfter = wheeled.xRange![0] + span(wheeled.xRange) * 0.25;
      assert.ok(Math.abs(atAfter - atFull) < span(full.xRange) * 0.01, `pointer wavelength kept: ${atFull} → ${atAfter}`);

      n = await v.mark();
      await v.page.mouse.dblclick(box.x + box.width / 2, y);
      const reset2 = await v.waitForNextReport(n, (x) => span(x.xRange) === span(full.xRange));
      assert.deepEqual(reset2.xRange, full.xRange, 'double-click resets');
      assertClean(v);
    } finally {
      await v.close();
    }
  });

  test('DESI coadd: picker lists 5 spectra with empty-fibre markers, n/p and the dropdown switch spectra', async () => {
    const v = await Viewer.open();
    try {
      await v.load(DESI);
      const first = await v.waitForReport((x) => x.view === 'plot' && x.drawnPoints > 0);
      assert.equal(first.spectrumCount, 5);
      assert.equal(first.spectrumIndex, 0);
      const options = await v.page.locator('.sv-picker vscode-option').allInnerTexts();
      assert.equal(options.length, 5);
      truth[DESI].spectra.forEach((s: { id: string; allZero: boolean }, i: number) => {
        assert.ok(options[i].includes(s.id), `option ${i} shows TARGETID ${s.id}: ${options[i]}`);
        assert.equal(options[i].includes('empty fibre'), s.allZero, `empty marker on option ${i}`);
      });
      assert.ok(await v.page.locator('.sv-banner').isVisible(), 'empty-fibre banner on spectrum 0');
      assert.ok(first.title.includes('-2713437'));

      let n = await v.mark();
      await v.page.keyboard.press('n');
      const second = await v.waitForNextReport(n, (x) => x.spectrumIndex === 1);
      assert.ok(second.title.includes('-2713415'));
      n = await v.mark();
      await v.page.keyboard.press('n');
      const third = await v.waitForNextReport(n, (x) => x.spectrumIndex === 2);
      assert.ok(third.title.includes('39627866878511337'));
      assert.equal(third.nPoints, 7781, 'b/r/z combined on one grid');
      assert.equal(await v.page.locator('.sv-banner').isVisible(), false, 'no empty banner for a real target');
      n = await v.mark();
      await v.page.keyboard.press('p');
      await v.waitForNextReport(n, (x) => x.spectrumIndex === 1);

      // The toolkit dropdown.
      n = await v.mark();
      await v.page.locator('.sv-picker').click();
      await v.page.locator('.sv-picker vscode-option').nth(4).click();
      const fifth = await v.waitForNextReport(n, (x) => x.spectrumIndex === 4);
      assert.ok(fifth.title.includes('39627866878514741'));
      const meta = await v.page.locator('.sv-meta-table').innerText();
      assert.match(meta, /B, R, Z/);
      await v.screenshot('webview-desi-dark.png');
      assertClean(v);
    } finally {
      await v.close();
    }
  });

  test('header panel: every card listed, search filters by keyword, value and comment', async () => {
    const v = await Viewer.open();
    try {
      await v.load('spSpec-52999-1307-323.fit');
      await v.waitForReport((x) => x.view === 'plot' && x.drawnPoints > 0);
      await v.page.locator('vscode-panel-tab#tab-header').click();
      const rows = v.page.locator('.sv-header-table tr');
      const total = await rows.count();
      assert.ok(total > 50, `primary header has many cards (${total})`);
      await v.page.locator('.sv-header-search input').fill('plateid');
      await v.page.waitForFunction(() => /of \d+ cards/.test(document.querySelector('.sv-header-count')?.textContent ?? ''));
      const visible = await v.page.locator('.sv-header-table tr:not([hidden])').allInnerTexts();
      assert.ok(visible.length >= 1 && visible.length < total);
      assert.ok(visible.every((t) => /plateid/i.test(t)), `every visible card matches: ${visible.join(' | ')}`);
      assert.ok(visible.some((t) => /\b1307\b/.test(t)), 'PLATEID = 1307 shown');
      const count = await v.page.locator('.sv-header-count').innerText();
      assert.equal(count, `${visible.length} of ${total} cards`);
      // Typing in the search box must not trigger plot shortcuts.
      const before = v.reports.at(-1)!;
      await v.page.locator('.sv-header-search input').fill('');
      await v.page.locator('.sv-header-search input').pressSequentially('n0+');
      await new Promise((r) => setTimeout(r, 200));
      assert.deepEqual(v.reports.at(-1)!.xRange, before.xRange, 'keys typed in the search field do not zoom');
      assertClean(v);
    } finally {
      await v.close();
    }
  });

  test('bad files show the error view with what and where; the page keeps working', async () => {
    const v = await Viewer.open();
    try {
      await v.load('broken.fits', new TextEncoder().encode('this is not a FITS file at all'.padEnd(4000, ' ')));
      const r = await v.waitForReport((x) => x.view === 'error');
      assert.ok(r.errorText && r.errorText.length > 10, `error text: ${r.errorText}`);
      const box = v.page.locator('.sv-error');
      assert.ok(await box.isVisible());
      assert.match(await box.innerText(), /Cannot show broken\.fits/);
      await v.screenshot('webview-error-dark.png');

      const bytes = fs.readFileSync(fixture(SDSS));
      await v.load('truncated.fits', bytes.subarray(0, 30000));
      const r2 = await v.waitForReport((x) => x.view === 'error' && x.fileName === 'truncated.fits');
      assert.match(r2.errorText ?? '', /trunc|end|byte|short/i);
      assertClean(v);
    } finally {
      await v.close();
    }
  });

  test('redrock catalogue is shown as a table of targets with z and type', async () => {
    const v = await Viewer.open();
    try {
      await v.load('redrock-test.fits');
      const r = await v.waitForReport((x) => x.view === 'catalog');
      const rows = truth['redrock-test.fits'].redshifts as Array<{ targetid: string; z: number; spectype: string }>;
      assert.equal(r.catalogRows, rows.length);
      const text = await v.page.locator('.sv-catalog-table tbody').innerText();
      for (const row of rows) {
        assert.ok(text.includes(row.targetid), `TARGETID ${row.targetid} exact`);
        assert.ok(text.includes(row.z.toFixed(6)), `z ${row.z}`);
        assert.ok(text.includes(row.spectype));
      }
      assertClean(v);
    } finally {
      await v.close();
    }
  });

  test('theme colours follow VS Code: body class vscode-dark ↔ vscode-light', async () => {
    const v = await Viewer.open({ theme: 'dark' });
    try {
      await v.load(LAMOST);
      await v.waitForReport((x) => x.view === 'plot' && x.theme === 'dark');
      const darkBlue = await v.countColour([0x37, 0x94, 0xff], 20);
      assert.ok(darkBlue > 300);
      const n = await v.mark();
      await v.setTheme('light');
      const r = await v.waitForNextReport(n, (x) => x.theme === 'light');
      assert.equal(r.theme, 'light');
      await v.page.waitForTimeout(50);
      assert.ok((await v.countColour([0x1a, 0x85, 0xff], 12)) > 300, 'flux redrawn in the light theme blue');
      assert.ok((await v.countColour([0x37, 0x94, 0xff], 12)) < darkBlue / 10, 'dark blue gone');
      const bg = await v.page.evaluate(() => getComputedStyle(document.body).backgroundColor);
      assert.equal(bg, 'rgb(255, 255, 255)');
      await v.screenshot('webview-lamost-light.png');
      assertClean(v);
    } finally {
      await v.close();
    }
  });
});

