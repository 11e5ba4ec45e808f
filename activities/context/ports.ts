// The seam for root-cause context: anything that can list deploys, incidents, flag changes and
// known issues for a time range implements ContextSource (files, HTTP endpoints, fakes in tests).
import type { TContextEvent, TTimeRange } from './events.js';

export interface ContextSource {
  /** Stable label recorded with the ranking (which sources answered, which failed). */
  readonly name: string;
  /** Validated events touching the range. Throws LoopwrightError on failure; never returns partial data. */
  listEvents(range: TTimeRange): Promise<TContextEvent[]>;
  /**
   * Start-up check of what can be checked without the upstream answering (a file's existence and
   * every field, with file and line). Throws LoopwrightError('invalid_config'). Absent: nothing to check.
   */
  check?(): Promise<void>;
}
