// The FITS reader: synchronous, over bytes, lazy. See reader.ts for the walk, image.ts and
// table.ts for data access.
export { readFits, isGzip, gunzipBounded, bitpixName, FitsHdu, MAX_ELEMENTS } from './reader';
export type { FitsFile, HduKind, ReadFitsOptions } from './reader';
export { FitsHeader, parseHeader, parseCard, intKey, CARD, BLOCK } from './header';
export type { CardValue, HeaderCard } from './header';
export type { FitsImage } from './image';
export { PlainImage } from './image';
export { FitsTable } from './table';
export type { FitsColumn, ColumnValues } from './table';
export type { ScaledArray } from './scaling';
