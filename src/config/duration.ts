// Durations in config: milliseconds as a number, or a string with a unit ("500ms", "30s", "2m", "1h").

const UNIT_MS = { ms: 1, s: 1_000, m: 60_000, h: 3_600_000 } as const;
const DURATION = /^(\d+(?:\.\d+)?)(ms|s|m|h)$/;

/**
 * setTimeout() cannot wait longer than 2^31-1 ms (~24.8 days): a longer delay fires at once with only a
 * warning, so a larger timeout would silently become "no wait at all".
 */
export const MAX_DURATION_MS = 2 ** 31 - 1;

export const DURATION_EXPECTED = 'a duration: milliseconds ≥ 0 or a string like "500ms", "30s", "2m", "1h"';

/** Milliseconds (rounded to whole ms), or undefined when `value` is not a valid duration. */
export function parseDuration(value: unknown): number | undefined {
  let ms: number;
  if (typeof value === 'number') {
    ms = value;
  } else if (typeof value === 'string') {
    const match = DURATION.exec(value);
    if (match === null) return undefined;
    ms = Number(match[1]) * UNIT_MS[match[2] as keyof typeof UNIT_MS];
  } else {
    return undefined;
  }
  if (!Number.isFinite(ms) || ms < 0) return undefined;
  return Math.round(ms);
}
