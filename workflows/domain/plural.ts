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

/**
 * `3 reports from 2 customers`; `1 report, customer unknown` / `2 tickets, customers unknown` when
 * none of them named its customer (an anonymous form, an import without ids): never `from 0 customers`.
 */
export function countFromCustomers(n: number, one: string, customers: number, many = `${one}s`): string {
  if (customers > 0) return `${countOf(n, one, many)} from ${countOf(customers, 'customer')}`;
  return n === 0 ? countOf(n, one, many) : `${countOf(n, one, many)}, ${n === 1 ? 'customer' : 'customers'} unknown`;
}
