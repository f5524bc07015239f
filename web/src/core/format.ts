/** Numbers and times as the pages print them (times in UTC, like the API). */

export function formatPrice(value: number): string {
  const digits = Math.abs(value) >= 1000 ? 2 : Math.abs(value) >= 1 ? 4 : 6;
  return value.toLocaleString("en-US", { minimumFractionDigits: 2, maximumFractionDigits: digits });
}

export function formatVolume(value: number): string {
  const units: Array<[number, string]> = [[1e9, "B"], [1e6, "M"], [1e3, "K"]];
  for (const [size, unit] of units) if (Math.abs(value) >= size) return `${(value / size).toFixed(2)}${unit}`;
  return value.toFixed(2);
}

export function formatTime(epochSeconds: number): string {
  return new Date(epochSeconds * 1000).toISOString().replace("T", " ").replace(/:00\.000Z$|\.000Z$/, "") + " UTC";
}

export function formatCount(value: number): string {
  return value.toLocaleString("en-US");
}
