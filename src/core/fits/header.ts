// FITS header cards (FITS standard 4.0 §4): 80-character ASCII cards in 2880-byte blocks ending
// with END. Values keep their type: strings (with '' unescaped and CONTINUE joined), logicals,
// integers (bigint beyond 2^53 so 64-bit identifiers stay exact), floats (E or D exponent).
import { SpecVetError } from '../errors';

export const CARD = 80;
export const BLOCK = 2880;

export type CardValue = string | number | bigint | boolean | null;

export interface HeaderCard {
  keyword: string;
  /** Parsed value; null for commentary cards and undefined values. */
  value: CardValue;
  /** The value as written (strings unquoted and joined across CONTINUE), for display. */
  valueText: string;
  comment: string;
}

export class FitsHeader {
  private readonly index = new Map<string, number>();

  constructor(readonly cards: HeaderCard[]) {
    // First occurrence wins, as in most readers; commentary keywords are not looked up.
    for (let i = 0; i < cards.length; i++) {
      const k = cards[i].keyword;
      if (k && !COMMENTARY.has(k) && !this.index.has(k)) this.index.set(k, i);
    }
  }

  has(keyword: string): boolean {
    return this.index.has(keyword.toUpperCase());
  }

  card(keyword: string): HeaderCard | undefined {
    const i = this.index.get(keyword.toUpperCase());
    return i === undefined ? undefined : this.cards[i];
  }

  get(keyword: string): CardValue | undefined {
    return this.card(keyword)?.value;
  }

  /** String value with trailing blanks removed; numbers are not converted. */
  string(keyword: string): string | null {
    const v = this.get(keyword);
    return typeof v === 'string' ? v.replace(/\s+$/, '') : null;
  }

  /** Numeric value (bigint converted, possibly losing precision beyond 2^53); null when absent or not numeric. */
  number(keyword: string): number | null {
    const v = this.get(keyword);
    if (typeof v === 'number') return v;
    if (typeof v === 'bigint') return Number(v);
    return null;
  }

  /** A number written as a string value (some pipelines quote numbers) or as a number. */
  numberLoose(keyword: string): number | null {
    const n = this.number(keyword);
    if (n !== null) return n;
    const s = this.string(keyword);
    if (s === null || s.trim() === '') return null;
    const v = Number(s.trim().replace(/[dD]/, 'e'));
    return Number.isFinite(v) ? v : null;
  }

  bool(keyword: string): boolean | null {
    const v = this.get(keyword);
    return typeof v === 'boolean' ? v : null;
  }

  /** Value as text for display, '' when absent. */
  text(keyword: string): string {
    return this.card(keyword)?.valueText ?? '';
  }
}

const COMMENTARY = new Set(['COMMENT', 'HISTORY', '', 'CONTINUE']);

const INT_RE = /^[+-]?\d+$/;
const FLOAT_RE = /^[+-]?(\d+\.?\d*|\.\d+)([EeDd][+-]?\d+)?$/;

/** Where a header starts and ends, and its cards. */
export interface ParsedHeader {
  header: FitsHeader;
  /** Byte offset just past the header's last 2880-byte block. */
  end: number;
}

/**
 * Parses the header starting at `offset`. Every loop is bounded by the byte length; a header
 * without END before the bytes run out is 'fits-truncated'.
 */
export function parseHeader(bytes: Uint8Array, offset: number, where: string, maxCards = 100_000): ParsedHeader {
  const cards: HeaderCard[] = [];
  let pos = offset;
  let sawEnd = false;
  while (pos + CARD <= bytes.length) {
    const raw = cardText(bytes, pos);
    pos += CARD;
    const keyword = raw.slice(0, 8).trimEnd();
    if (keyword === 'END' && raw.slice(8).trim() === '') {
      sawEnd = true;
      break;
    }
    if (cards.length >= maxCards) throw new SpecVetError('fits-limit', `header has more than ${maxCards} cards`, where);
    const card = parseCard(raw);
    // CONTINUE long strings (§4.2.1.2): a string ending in '&' continues in the next card.
    const prev = cards[cards.length - 1];
    if (card.keyword === 'CONTINUE' && prev && typeof prev.value === 'string' && prev.value.endsWith('&')) {
      const cont = parseContinue(raw);
      if (cont) {
        prev.value = prev.value.slice(0, -1) + cont.value;
        prev.valueText = prev.value;
        if (cont.comment) prev.comment = prev.comment ? `${prev.comment} ${cont.comment}` : cont.comment;
        continue;
      }
    }
    cards.push(card);
  }
  if (!sawEnd) {
    throw new SpecVetError('fits-truncated', `header has no END card before the data ends at byte ${bytes.length}`, `${where}, header at byte ${offset}`);
  }
  const used = pos - offset;
  const end = offset + Math.ceil(used / BLOCK) * BLOCK;
  return { header: new FitsHeader(cards), end };
}

function cardText(bytes: Uint8Array, pos: number): string {
  // latin1 so that stray non-ASCII bytes in damaged files never throw.
  return Buffer.from(bytes.buffer, bytes.byteOffset + pos, CARD).toString('latin1');
}

export function parseCard(raw: string): HeaderCard {
  let keyword = raw.slice(0, 8).trimEnd().toUpperCase();
  let body: string;
  if (keyword === 'HIERARCH') {
    // ESO HIERARCH convention: "HIERARCH A B C = value / comment".
    const eq = raw.indexOf('=', 8);
    if (eq < 0) return { keyword, value: null, valueText: '', comment: raw.slice(8).trim() };
    keyword = raw.slice(9, eq).trim().replace(/\s+/g, ' ').toUpperCase();
    body = raw.slice(eq + 1);
  } else if (raw.slice(8, 10) === '= ' && !COMMENTARY.has(keyword)) {
    body = raw.slice(10);
  } else {
    // Commentary card (COMMENT, HISTORY, blank, or a keyword without value indicator).
    return { keyword, value: null, valueText: '', comment: raw.slice(8).trimEnd() };
  }
  const { value, valueText, comment } = parseValue(body);
  return { keyword, value, valueText, comment };
}

function parseContinue(raw: string): { value: string; comment: string } | null {
  const body = raw.slice(8);
  const q = body.indexOf("'");
  if (q < 0 || body.slice(0, q).trim() !== '') return null;
  const parsed = parseValue(body);
  return typeof parsed.value === 'string' ? { value: parsed.value, comment: parsed.comment } : null;
}

function parseValue(body: string): { value: CardValue; valueText: string; comment: string } {
  let i = 0;
  while (i < body.length && body[i] === ' ') i++;
  if (body[i] === "'") {
    // Quoted string: '' is a literal quote; a '/' inside the quotes is text, not a comment.
    let s = '';
    let j = i + 1;
    let closed = false;
    while (j < body.length) {
      const ch = body[j];
      if (ch === "'") {
        if (body[j + 1] === "'") {
          s += "'";
          j += 2;
          continue;
        }
        closed = true;
        j++;
        break;
      }
      s += ch;
      j++;
    }
    // An unclosed string is malformed; keep what is there rather than fail the whole file.
    const rest = closed ? body.slice(j) : '';
    const slash = rest.indexOf('/');
    const comment = slash >= 0 ? rest.slice(slash + 1).trim() : '';
    const value = s.replace(/ +$/, '');
    return { value, valueText: value, comment };
  }
  const slash = body.indexOf('/', i);
  const token = (slash >= 0 ? body.slice(i, slash) : body.slice(i)).trim();
  const comment = slash >= 0 ? body.slice(slash + 1).trim() : '';
  return { value: parseToken(token), valueText: token, comment };
}

function parseToken(token: string): CardValue {
  if (token === '') return null;
  if (token === 'T') return true;
  if (token === 'F') return false;
  if (INT_RE.test(token)) {
    const n = Number(token);
    if (Number.isSafeInteger(n)) return n;
    return BigInt(token);
  }
  if (FLOAT_RE.test(token)) return Number(token.replace(/[dD]/, 'e'));
  // Complex numbers "(re, im)" and anything unrecognised stay as their text.
  return token;
}

/** Integer header value; a non-integer or unsafe integer is a format error for structural keywords. */
export function intKey(h: FitsHeader, key: string, where: string): number | null {
  const v = h.get(key);
  if (v === undefined || v === null) return null;
  if (typeof v === 'number' && Number.isInteger(v)) return v;
  if (typeof v === 'bigint') throw new SpecVetError('fits-limit', `${key} = ${v} is beyond any real file`, where);
  throw new SpecVetError('fits-format', `${key} must be an integer, got ${JSON.stringify(h.text(key))}`, where);
}

