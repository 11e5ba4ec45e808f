// The registry of benchmark suites, in the order they print.
import { auditSuite } from './audit.js';
import { classifierSuite } from './classifier.js';
import { detectionSuite } from './detection.js';
import { detectionRankSuite } from './detection-rank.js';
import { groupingSuite } from './grouping.js';
import { injectionSuite } from './injection.js';
import { intakeSuite } from './intake.js';
import { loopSuite } from './loop.js';
import { maskingSuite } from './masking.js';
import { outcomeSuite } from './outcome.js';
import { shadowSuite } from './shadow.js';
import type { BenchSuite } from './table.js';
import { triageSuite } from './triage.js';

export const suites: BenchSuite[] = [classifierSuite, triageSuite, groupingSuite, maskingSuite, injectionSuite, detectionSuite, detectionRankSuite, outcomeSuite, shadowSuite, auditSuite, loopSuite, intakeSuite];
