// The one argument parser every subcommand uses: declared flags, clear usage errors.
import { SpecVetError } from '../core/errors';

export interface FlagSpec {
  /** Number of values the flag takes (0 for a boolean switch). */
  arity: number;
  /** May be given more than once (values accumulate). */
  repeat?: boolean;
}

export interface ParsedArgs {
  positionals: string[];
  flags: Map<string, string[][]>;
}

export function parseArgs(args: string[], spec: Record<string, FlagSpec>): ParsedArgs {
  const positionals: string[] = [];
  const flags = new Map<string, string[][]>();
  for (let i = 0; i < args.length; i++) {
    const a = args[i];
    if (a === '--') {
      positionals.push(...args.slice(i + 1));
      break;
    }
    if (a.startsWith('--')) {
      const eq = a.indexOf('=');
      const name = eq > 0 ? a.slice(2, eq) : a.slice(2);
      const s = spec[name];
      if (!s) throw new SpecVetError('usage', `unknown option --${name}`);
      let values: string[];
      if (eq > 0) {
        if (s.arity !== 1) throw new SpecVetError('usage', `--${name} does not take '=value'`);
        values = [a.slice(eq + 1)];
      } else {
        values = args.slice(i + 1, i + 1 + s.arity);
        if (values.length < s.arity) throw new SpecVetError('usage', `--${name} needs ${s.arity} value${s.arity > 1 ? 's' : ''}`);
        i += s.arity;
      }
      if (flags.has(name) && !s.repeat) throw new SpecVetError('usage', `--${name} given twice`);
      flags.set(name, [...(flags.get(name) ?? []), values]);
    } else {
      positionals.push(a);
    }
  }
  return { positionals, flags };
}

export function flagValue(p: ParsedArgs, name: string): string | undefined {
  return p.flags.get(name)?.[0]?.[0];
}

export function flagSet(p: ParsedArgs, name: string): boolean {
  return p.flags.has(name);
}

/** A number flag with bounds; a clear usage error otherwise. */
export function numberFlag(p: ParsedArgs, name: string, opts: { min?: number; max?: number; integer?: boolean } = {}): number | undefined {
  const raw = flagValue(p, name);
  if (raw === undefined) return undefined;
  return parseNumber(raw, `--${name}`, opts);
}

export function parseNumber(raw: string, what: string, opts: { min?: number; max?: number; integer?: boolean } = {}): number {
  const v = Number(raw);
  if (raw.trim() === '' || !Number.isFinite(v)) throw new SpecVetError('usage', `${what} must be a number, got '${raw}'`);
  if (opts.integer && !Number.isInteger(v)) throw new SpecVetError('usage', `${what} must be a whole number, got '${raw}'`);
  if (opts.min !== undefined && v < opts.min) throw new SpecVetError('usage', `${what} must be at least ${opts.min}, got ${raw}`);
  if (opts.max !== undefined && v > opts.max) throw new SpecVetError('usage', `${what} must be at most ${opts.max}, got ${raw}`);
  return v;
}
