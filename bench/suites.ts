// The registry of benchmark suites, in the order they print.
import type { BenchSuite } from './table.js';

export const suites: BenchSuite[] = [];
