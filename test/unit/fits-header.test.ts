// Header cards per FITS 4.0 §4: quoting, '' escapes, ' /' inside strings, CONTINUE, big integers,
// logicals, D exponents, HIERARCH, commentary cards, and the END/2880-block framing.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { parseCard, readFits } from '../../src/core/fits';
import { SpecVetError } from '../../src/core/errors';
import { headerBytes, imageHdu } from '../support/fits-writer';
import { readFileSync } from 'node:fs';
import { fixture } from '../support/paths';

function primaryWith(cards: Array<string | [string, string | number | bigint | boolean | null, string?]>) {
  return readFits(imageHdu({ bitpix: 8, shape: [], cards }), { source: 'synthetic.fits' }).hdus[0].header;
}

test("strings keep '' as a quote and ' /' inside quotes as text, comment after the closing quote", () => {
  const c = parseCard("OBJECT  = 'O''Brien / NGC 1 '     / the target's name".padEnd(80));
  assert.equal(c.keyword, 'OBJECT');
  assert.equal(c.value, "O'Brien / NGC 1");
  assert.equal(c.comment, "the target's name");
});

test('leading blanks in strings are significant, trailing blanks are not; empty string stays empty', () => {
  assert.equal(parseCard("A       = '  x   '".padEnd(80)).value, '  x');
  assert.equal(parseCard("B       = ''".padEnd(80)).value, '');
  assert.equal(parseCard("C       = '        '".padEnd(80)).value, '');
});

test('integers beyond 2^53 stay exact as bigint; small ones are numbers', () => {
  const h = primaryWith([['TARGETID', 39627866878511337n], ['BIG', -9223372036854775807n], ['SMALL', 42]]);
  assert.equal(h.get('TARGETID'), 39627866878511337n);
  assert.equal(h.get('BIG'), -9223372036854775807n);
  assert.equal(h.get('SMALL'), 42);
  assert.equal(h.text('TARGETID'), '39627866878511337');
});

test('logical T/F, floats with E and D exponents, undefined values, complex kept as text', () => {
  assert.equal(parseCard('FLAG    =                    T / yes'.padEnd(80)).value, true);
  assert.equal(parseCard('FLAG    =                    F'.padEnd(80)).value, false);
  assert.equal(parseCard('X       =             1.5D-03'.padEnd(80)).value, 0.0015);
  assert.equal(parseCard('X       =            -2.25E+02 / c'.padEnd(80)).value, -225);
  assert.equal(parseCard('X       =                 .5'.padEnd(80)).value, 0.5);
  assert.equal(parseCard('X       =                      / no value'.padEnd(80)).value, null);
  assert.equal(parseCard('X       =          (1.0, 2.0)'.padEnd(80)).value, '(1.0, 2.0)');
});

test('CONTINUE joins long strings ending in & and merges their comments', () => {
  const h = primaryWith([
    "LONGSTRN= 'OGIP 1.0'",
    "PATH    = 'this/is/a/very/long/&'  / first part",
    "CONTINUE  'path/that/goes/on&'",
    "CONTINUE  'and ends here' / last",
    ['AFTER', 1],
  ]);
  assert.equal(h.string('PATH'), 'this/is/a/very/long/path/that/goes/onand ends here');
  assert.match(h.card('PATH')!.comment, /first part.*last/);
  assert.equal(h.get('AFTER'), 1);
});

test('HIERARCH keywords are read with their full name', () => {
  const c = parseCard('HIERARCH ESO DET CHIP TEMP = -120.5 / [K]'.padEnd(80));
  assert.equal(c.keyword, 'ESO DET CHIP TEMP');
  assert.equal(c.value, -120.5);
});

test('COMMENT, HISTORY and blank cards are commentary, not values; a "/" there is text', () => {
  const h = primaryWith(['COMMENT --------FILE INFORMATION / not a comment field', 'HISTORY a = b', '', ['K', 'v']]);
  const comments = h.cards.filter((c) => c.keyword === 'COMMENT');
  assert.equal(comments[0].comment, '--------FILE INFORMATION / not a comment field');
  assert.equal(h.get('COMMENT'), undefined);
  assert.equal(h.string('K'), 'v');
});

test('lookups are case-insensitive and the first occurrence wins', () => {
  const h = primaryWith([['DUP', 1], ['DUP', 2]]);
  assert.equal(h.get('dup'), 1);
});

test('a number written as a quoted string is available through numberLoose', () => {
  const h = primaryWith([['X_VALUE', '516.3479298550']]);
  assert.equal(h.number('X_VALUE'), null);
  assert.equal(h.numberLoose('X_VALUE'), 516.347929855);
});

test('a header without END is fits-truncated, naming the HDU and byte', () => {
  const bytes = headerBytes([['SIMPLE', true], ['BITPIX', 8], ['NAXIS', 0]], { end: false });
  assert.throws(() => readFits(bytes, { source: 'noend.fits' }), (e: unknown) => {
    assert.ok(e instanceof SpecVetError);
    assert.equal(e.code, 'fits-truncated');
    assert.match(e.message, /END/);
    assert.match(e.message, /noend\.fits, HDU 0/);
    return true;
  });
});

test('a file that does not start with SIMPLE is fits-format', () => {
  assert.throws(() => readFits(Buffer.from('hello world'.padEnd(2880)), { source: 'x' }), (e: unknown) => e instanceof SpecVetError && e.code === 'fits-format');
  assert.throws(() => readFits(new Uint8Array(0)), (e: unknown) => e instanceof SpecVetError && e.code === 'fits-format');
});

test('a structural keyword that is not an integer is fits-format; a giant one is fits-limit', () => {
  const bad = headerBytes([['SIMPLE', true], ['BITPIX', 8], ['NAXIS', 1], ['NAXIS1', 'many']]);
  assert.throws(() => readFits(bad), (e: unknown) => e instanceof SpecVetError && e.code === 'fits-format' && /NAXIS1/.test(e.message));
  const huge = headerBytes([['SIMPLE', true], ['BITPIX', 8], ['NAXIS', 1], ['NAXIS1', 99999999999999999999n]]);
  assert.throws(() => readFits(huge), (e: unknown) => e instanceof SpecVetError && e.code === 'fits-limit');
  const bitpix = headerBytes([['SIMPLE', true], ['BITPIX', 12], ['NAXIS', 0]]);
  assert.throws(() => readFits(bitpix), (e: unknown) => e instanceof SpecVetError && e.code === 'fits-format' && /BITPIX/.test(e.message));
});

test('real CONTINUE strings in a DESI header are joined (DEPVER21 of the coadd fixture)', () => {
  const h = readFits(readFileSync(fixture('coadd-sv3-dark-26065.fits'))).hdus[0].header;
  assert.equal(h.string('DEPVER21'), '/global/common/software/desi/cori/desiconda/20211217-2.0.0/code/desimodel/0.17.0');
  assert.equal(h.string('LONGSTRN'), 'OGIP 1.0');
});
