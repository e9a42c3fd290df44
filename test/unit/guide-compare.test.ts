// Compare guides on real fixtures against the vLLM-like server: two guides, the same spectra, the
// verdicts paired per spectrum with file:line links to both traces; a guide against its git HEAD.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { execFile, execFileSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { collectSpectra, comparisonMarkdown, guideFromGit, runGuideComparison, spectrumFilesIn } from '../../src/core/guides/compare';
import { loadGuide, parseGuide } from '../../src/core/guides/guide';
import { readTraceFile } from '../../src/core/trace/jsonl';
import { fixture, repoRoot } from '../support/paths';
import { answerText, startVllmServer, thinkText, toolCallText, type VllmServer } from '../support/vllm-server';

let server: VllmServer;
before(async () => {
  server = await startVllmServer();
});
after(() => server.close());

const FILES = ['spec-55862-B6212_sp06-025.fits', 'spSpec-52999-1307-323.fit', 'sdss_dr18_0358-51818-0504.fits', 'redrock-test.fits'].map(fixture);

test('two guides on the same real spectra: verdicts paired per spectrum, differences first, links to both traces', async () => {
  const a = loadGuide('m-giant');
  // B: the same guide with a stricter instruction; the test model answers NO to it on exactly one spectrum (the first it decides).
  const b = parseGuide(a.text.replace('version: "1"', 'version: "2"').replace('**Key Visual Indicators:**', '**Key Visual Indicators:** (STRICT)'), 'strict.guide.md');
  let strictNoGiven = false;
  server.setPolicy(({ turn, request }) => {
    if (turn === 0) return { content: thinkText('Look at the TiO heads.') + toolCallText([7000, 7700], 'TiO') };
    const strict = JSON.stringify(request.body.messages[1].content).includes('(STRICT)');
    const no = strict && !strictNoGiven;
    if (no) strictNoGiven = true;
    return { content: thinkText('Decided.') + answerText(no ? 'NO' : 'YES') };
  });
  const { targets, problems } = collectSpectra(FILES);
  assert.deepEqual(problems.map((p) => [path.basename(p.file), p.message]), [['redrock-test.fits', 'a redshift catalogue, not a spectrum file']]);
  assert.equal(targets.length, 3);

  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'specvet-compare-'));
  const progress: number[] = [];
  const c = await runGuideComparison({
    a: { guide: a, label: 'built-in', tracesFile: path.join(dir, 'a.jsonl') },
    b: { guide: b, label: 'strict', tracesFile: path.join(dir, 'b.jsonl') },
    targets,
    endpoint: { baseUrl: server.baseUrl, model: 'spec-o3-7b', retries: 0 },
    concurrency: 3,
    onProgress: (done) => progress.push(done),
  });
  assert.deepEqual(progress, [1, 2, 3, 4, 5, 6]);
  assert.equal(c.total, 3);
  assert.equal(c.a.verdicts.YES, 3);
  assert.equal(c.b.verdicts.YES + c.b.verdicts.NO, 3);
  assert.deepEqual([c.b.verdicts.YES, c.b.verdicts.NO], [2, 1]);
  assert.equal(c.differences, 1, 'the row differs exactly where B said NO');
  assert.ok(c.rows[0].differ && c.rows[0].b!.verdict === 'NO', 'differences first');
  assert.deepEqual([c.a.guideVersion, c.b.guideVersion], ['1', '2']);
  // Differences first.
  const firstSame = c.rows.findIndex((r) => !r.differ);
  assert.ok(firstSame === -1 || c.rows.slice(firstSame).every((r) => !r.differ));

  const fa = readTraceFile(path.join(dir, 'a.jsonl'));
  const fb = readTraceFile(path.join(dir, 'b.jsonl'));
  for (const r of c.rows) {
    for (const [link, f] of [[r.a!, fa], [r.b!, fb]] as const) {
      const t = f.traces[f.lines.indexOf(link.line)];
      assert.equal(t.id, link.traceId, 'file:line points at the linked trace');
      assert.equal(`${t.source.sha256}#${t.source.index}`, r.key, 'both sides are the same spectrum');
      assert.equal(t.answer.verdict, link.verdict);
    }
    assert.equal(r.differ, r.a!.verdict !== r.b!.verdict);
  }
  const md = comparisonMarkdown(c, dir);
  assert.match(md, new RegExp(`# Guide comparison: ${c.differences} of 3 spectra differ`));
  assert.match(md, /\[a\.jsonl:\d+\]\(a\.jsonl#L\d+\)/, 'links relative to the report folder');
  assert.match(comparisonMarkdown(c), new RegExp(`\\(${dir.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}/b\\.jsonl#L\\d\\)`), 'absolute without a report folder');
});

test('a guide against its git HEAD version (the committed built-in cv guide)', async () => {
  const head = await guideFromGit(path.join(repoRoot, 'guides/cv.guide.md'));
  assert.equal(head.text, execFileSync('git', ['-C', repoRoot, 'show', 'HEAD:guides/cv.guide.md'], { encoding: 'utf8' }));
  assert.equal(head.id, 'cv');
  assert.match(head.source, /^git:HEAD:/);
  await assert.rejects(guideFromGit(path.join(os.tmpdir(), 'nowhere.guide.md')), /cannot read the HEAD version of the guide from git/);
});

test('scripted comparison (offline): no verdicts on either side, so no differences; folders are listed recursively', async () => {
  const files = spectrumFilesIn(path.join(repoRoot, 'test/fixtures/spectra'));
  assert.ok(files.some((f) => f.endsWith('.fits.gz')) && files.every((f) => /\.(fits|fit)(\.gz)?$/.test(f)));
  const { targets } = collectSpectra([fixture('spec-55862-B6212_sp06-025.fits')]);
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'specvet-compare-'));
  const c = await runGuideComparison({
    a: { guide: loadGuide('m-giant'), label: 'm-giant', tracesFile: path.join(dir, 'a.jsonl') },
    b: { guide: loadGuide('carbon'), label: 'carbon', tracesFile: path.join(dir, 'b.jsonl') },
    targets,
    endpoint: 'scripted',
  });
  assert.equal(c.total, 1);
  assert.equal(c.differences, 0);
  assert.equal(c.rows[0].a!.status, 'scripted');
  await assert.rejects(runGuideComparison({ a: { guide: loadGuide('cv'), label: 'x', tracesFile: path.join(dir, 'same.jsonl') }, b: { guide: loadGuide('cv'), label: 'y', tracesFile: path.join(dir, 'same.jsonl') }, targets, endpoint: 'scripted' }), /different trace files/);
});

test('CLI: specvet compare-guides — a guide file against its git HEAD on an endpoint, built-ins offline, usage errors', async () => {
  const cli = path.join(repoRoot, 'dist/cli.js');
  const run = (args: string[]) =>
    new Promise<{ code: number | null; stdout: string; stderr: string }>((resolve) => {
      execFile(process.execPath, [cli, 'compare-guides', ...args], { encoding: 'utf8', timeout: 60_000 }, (err, stdout, stderr) => resolve({ code: err ? ((err as { code?: number }).code ?? 1) : 0, stdout, stderr }));
    });
  server.setPolicy(({ turn }) => (turn === 0 ? { content: thinkText('Zoom.') + toolCallText([6500, 6630], 'Hα') } : { content: thinkText('Done.') + answerText('NO') }));
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'specvet-compare-cli-'));
  const head = await run([path.join(repoRoot, 'guides/cv.guide.md'), 'HEAD', fixture('spec-55862-B6212_sp06-025.fits'), '--endpoint', server.baseUrl, '--model', 'spec-o3-7b', '--out', dir, '--json']);
  assert.equal(head.code, 0, head.stderr);
  const c = JSON.parse(head.stdout);
  assert.deepEqual([c.total, c.differences, c.a.label, c.b.label], [1, 0, 'working copy', 'git HEAD']);
  assert.ok(fs.existsSync(path.join(dir, 'comparison.md')));

  const offline = await run(['m-giant', 'carbon', path.join(repoRoot, 'test/fixtures/spectra'), '--endpoint', 'scripted', '--out', path.join(dir, 'offline')]);
  assert.equal(offline.code, 1, 'the redrock catalogue in the folder is reported');
  assert.match(offline.stderr, /redrock-test\.fits: a redshift catalogue/);
  assert.match(offline.stdout, /0 of \d+ spectra differ/);

  assert.equal((await run(['m-giant'])).code, 2);
  const headOfBuiltin = await run(['cv', 'HEAD', fixture('spec-55862-B6212_sp06-025.fits'), '--endpoint', 'scripted']);
  assert.equal(headOfBuiltin.code, 2);
  assert.match(headOfBuiltin.stderr, /give guide A as a path/);
});
