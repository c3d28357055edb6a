/**
 * The median element of `items` by `key`: the middle one for an odd count,
 * the lower of the two middle ones for an even count (so it is always an
 * actual measurement, with its other fields intact).
 *
 * @throws RangeError when `items` is empty
 */
export function medianBy<T>(items: readonly T[], key: (item: T) => number): T {
  if (items.length === 0) throw new RangeError('items must not be empty');
  const sorted = [...items].sort((a, b) => key(a) - key(b));
  return sorted[(sorted.length - 1) >> 1]!;
}
