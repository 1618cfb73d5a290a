/**
 * A pure function of one string, remembered for up to `capacity` distinct inputs: real data repeats the same few
 * thousand job titles and places endlessly. When full, the memory starts over (cheaper than tracking recency).
 * Results are frozen: every caller shares them. Inputs longer than `maxInputLength` are computed every time.
 */
export function memoiseByString<T extends object | null>(
  compute: (input: string) => T,
  { capacity = 20_000, maxInputLength = 200 } = {},
): (input: string) => T {
  const remembered = new Map<string, T>();
  return (input) => {
    if (input.length > maxInputLength) return compute(input);
    let result = remembered.get(input);
    if (result === undefined) {
      result = compute(input);
      if (result !== null) Object.freeze(result);
      if (remembered.size >= capacity) remembered.clear();
      remembered.set(input, result);
    }
    return result;
  };
}
