// What a person types for the agent, parsed without vscode (unit-tested in plain Node).

/** A wavelength range typed by a person: `6500-6600`, `6500 6600`, `6500–6600`, `[6500, 6600]`. */
export function parseRange(text: string): [number, number] | null {
  const m = /^\s*\[?\s*(-?\d+(?:\.\d*)?)\s*(?:-|–|—|:|,|\s)\s*(-?\d+(?:\.\d*)?)\s*\]?\s*(?:Å|A)?\s*$/.exec(text);
  if (!m) return null;
  const a = Number(m[1]);
  const b = Number(m[2]);
  return Number.isFinite(a) && Number.isFinite(b) && a < b ? [a, b] : null;
}

const SECRET_PREFIX = 'specvet.apiKey:';

/** Keys are stored per endpoint origin, so switching the URL never sends one server's key to another. */
export function secretKeyFor(url: string): string {
  try {
    return SECRET_PREFIX + new URL(url).origin;
  } catch {
    return SECRET_PREFIX + url;
  }
}
