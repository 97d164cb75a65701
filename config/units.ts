/** Units of network constraints, as tc understands them, parsed to plain numbers. */

const RATE_UNITS: Record<string, number> = {
  bit: 1,
  kbit: 1e3,
  mbit: 1e6,
  gbit: 1e9,
  tbit: 1e12,
  kibit: 1024,
  mibit: 1024 ** 2,
  gibit: 1024 ** 3,
  tibit: 1024 ** 4,
  bps: 8,
  kbps: 8e3,
  mbps: 8e6,
  gbps: 8e9,
  tbps: 8e12,
  kibps: 8 * 1024,
  mibps: 8 * 1024 ** 2,
  gibps: 8 * 1024 ** 3,
  tibps: 8 * 1024 ** 4,
};
const DELAY_UNITS: Record<string, number> = { us: 1, usec: 1, ms: 1e3, msec: 1e3, s: 1e6, sec: 1e6, secs: 1e6 };
const QUANTITY = /^\s*(\d+(?:\.\d+)?)\s*([a-zA-Z%]*)\s*$/;

function parse(text: string, units: Record<string, number>, what: string, example: string): number {
  const match = QUANTITY.exec(text);
  const factor = match ? units[match[2].toLowerCase()] : undefined;
  if (!match || factor === undefined) {
    throw new Error(
      `"${text}" is not a ${what}; write a number and one of ${Object.keys(units).join(", ")}, e.g. ${example}`,
    );
  }
  return Number(match[1]) * factor;
}

/** Bits per second. */
export const parseRate = (text: string): number => parse(text, RATE_UNITS, "rate", "100mbit");

/** Microseconds. */
export const parseDelay = (text: string): number => parse(text, DELAY_UNITS, "delay", "10ms");

/** Percent, 0 to 100. */
export function parseLoss(text: string | number): number {
  const match = /^\s*(\d+(?:\.\d+)?)\s*%?\s*$/.exec(String(text));
  const percent = match ? Number(match[1]) : NaN;
  if (!(percent >= 0 && percent <= 100)) {
    throw new Error(`"${text}" is not a loss; write a percentage between 0% and 100%, e.g. 0.1%`);
  }
  return percent;
}
