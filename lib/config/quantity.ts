/**
 * Kubernetes resource quantities, parsed exactly (k8s.io/apimachinery resource.Quantity):
 * a signed decimal number, then a binary suffix (Ki..Ei), a decimal one (n, u, m, k, M, G, T,
 * P, E) or a decimal exponent (e3, E-2). Amounts are kept as BigInt numerators over a power
 * of ten, so "1e9", "+2Gi" and "500m" come out exactly or are refused, never as NaN.
 */
const BINARY: Record<string, bigint> = {
  Ki: 1n << 10n,
  Mi: 1n << 20n,
  Gi: 1n << 30n,
  Ti: 1n << 40n,
  Pi: 1n << 50n,
  Ei: 1n << 60n,
};
const DECIMAL: Record<string, number> = { n: -9, u: -6, m: -3, '': 0, k: 3, M: 6, G: 9, T: 12, P: 15, E: 18 };

const GRAMMAR = /^([+-]?)(\d+(?:\.\d*)?|\.\d+)(Ki|Mi|Gi|Ti|Pi|Ei|n|u|m|k|M|G|T|P|E|[eE][+-]?\d+)?$/;

/** value = numerator / 10^scale (numerator may be negative). */
export interface Exact {
  numerator: bigint;
  scale: number;
}

export function parseQuantity(text: string): Exact | undefined {
  const match = GRAMMAR.exec(text);
  if (!match) return undefined;
  const [, sign, number, suffix = ''] = match;
  const [whole = '', fraction = ''] = number!.split('.');
  let numerator = BigInt(`${whole || '0'}${fraction}`) * (sign === '-' ? -1n : 1n);
  let scale = fraction.length;
  if (suffix in BINARY) numerator *= BINARY[suffix]!;
  else {
    const exponent = suffix in DECIMAL ? DECIMAL[suffix]! : Number(suffix.slice(1));
    if (!Number.isSafeInteger(exponent) || Math.abs(exponent) > 30) return undefined;
    if (exponent >= 0) numerator *= 10n ** BigInt(exponent);
    else scale -= exponent;
  }
  return { numerator, scale };
}

/** Whole non-negative units, exactly (any size), or undefined when fractional or negative. */
export function exactUnits(text: string): bigint | undefined {
  const exact = parseQuantity(text);
  if (!exact) return undefined;
  const divisor = 10n ** BigInt(exact.scale);
  if (exact.numerator < 0n || exact.numerator % divisor !== 0n) return undefined;
  return exact.numerator / divisor;
}

/** Whole units (bytes, say) as a number, or undefined when fractional or beyond 2^53. */
export function wholeUnits(text: string): number | undefined {
  const value = exactUnits(text);
  return value !== undefined && value <= BigInt(Number.MAX_SAFE_INTEGER) ? Number(value) : undefined;
}

export function formatBytes(bytes: number): string {
  const units = ['B', 'KiB', 'MiB', 'GiB', 'TiB', 'PiB'];
  let value = bytes;
  let unit = 0;
  while (value >= 1024 && unit < units.length - 1) {
    value /= 1024;
    unit += 1;
  }
  return `${Number.isInteger(value) ? value : value.toFixed(1)} ${units[unit]}`;
}
