// Sizes in config: bytes as a number, or a string with a binary or decimal unit ("512KiB", "256MiB", "1GB").

const UNIT = { B: 1, KB: 1e3, MB: 1e6, GB: 1e9, KiB: 1024, MiB: 1024 ** 2, GiB: 1024 ** 3 } as const;
const SIZE = /^(\d+(?:\.\d+)?)\s*(B|KB|MB|GB|KiB|MiB|GiB)$/;

export const BYTE_SIZE_EXPECTED = 'a size: bytes ≥ 0 or a string like "512KiB", "256MiB", "1GB"';

/** Whole bytes, or undefined when `value` is not a valid size. */
export function parseByteSize(value: unknown): number | undefined {
  let n: number;
  if (typeof value === 'number') n = value;
  else if (typeof value === 'string') {
    const m = SIZE.exec(value.trim());
    if (m === null) return undefined;
    n = Number(m[1]) * UNIT[m[2] as keyof typeof UNIT];
  } else return undefined;
  if (!Number.isFinite(n) || n < 0 || n > Number.MAX_SAFE_INTEGER) return undefined;
  return Math.floor(n);
}
