// Counts in words for every text people read: `1 report`, `48 reports`, `1,234 customers`. Pure and
// locale-free (no Intl), so workflow code renders the same digits on every worker.

/** `1,234`. */
export function formatCount(n: number): string {
  const [int, frac] = String(n).split('.');
  const grouped = (int ?? '').replace(/\B(?=(\d{3})+(?!\d))/g, ',');
  return frac === undefined ? grouped : `${grouped}.${frac}`;
}

/** `1 report`, `48 reports`, `1 reply`, `3 replies` (the plural is given, or `one` + s). */
export function countOf(n: number, one: string, many = `${one}s`): string {
  return `${formatCount(n)} ${n === 1 ? one : many}`;
}
