/**
 * A number as people write one in a data file: decimal, with an optional sign, fraction and exponent.
 * Number() also reads "0x10" as 16, "0b11" as 3, "Infinity" and "" as 0; here those are NaN. Browser-safe.
 */
const DECIMAL = /^[+-]?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?$/;

export function parseDecimal(text: string): number {
  const t = text.trim();
  return DECIMAL.test(t) ? Number(t) : Number.NaN;
}
