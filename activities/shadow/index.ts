// Shadow mode: replay past feedback through a changed configuration next to the one in force and
// report what would have been decided differently; rehearse a playbook on one live issue. Entry
// points for the CLI (worker/commands/shadow.ts, rehearse.ts), the HTTP service and the benchmark.
// Nothing in activities/shadow/ writes anywhere: see the headers of replay.ts and sources.ts.
import { checkGate, type TGateCondition, type TGateResult } from './gate.js';
import { diffReplays, fidelityOf, type TShadowDiff } from './diff.js';
import { replayIssues, triageAll, type TReplayMessage, type TShadowConfiguration } from './replay.js';

export * from './diff.js';
export * from './gate.js';
export * from './replay.js';
export * from './round-plan.js';
export * from './sources.js';

export interface TShadowInputInfo {
  kind: 'audit' | 'file';
  /** The store URL without credentials, or the file path. */
  ref: string;
  from?: string;
  to?: string;
  source?: string;
  /** Rows or events that could not be replayed. */
  skipped: number;
}

export interface TShadowReport {
  generatedAt: string;
  input: TShadowInputInfo;
  /** Wall time of both replays (triage included) and the diff. */
  elapsedMs: number;
  messagesPerSecond: number;
  diff: TShadowDiff;
  gate: TGateResult[];
}

export interface TShadowRunOptions {
  baseline: TShadowConfiguration;
  candidate: TShadowConfiguration;
  input: TShadowInputInfo;
  gate?: readonly TGateCondition[];
  now?: () => number;
}

/** Both replays and their diff. Triage runs once when both sides use the same pipeline. */
export async function runShadow(messages: readonly TReplayMessage[], opts: TShadowRunOptions): Promise<TShadowReport> {
  const t0 = performance.now();
  const baseTriage = await triageAll(opts.baseline.pipeline, messages);
  const candTriage = opts.candidate.pipeline === opts.baseline.pipeline ? baseTriage : await triageAll(opts.candidate.pipeline, messages);
  const base = replayIssues(messages, baseTriage, opts.baseline);
  const cand = replayIssues(messages, candTriage, opts.candidate);
  const diff = diffReplays(messages, base, cand);
  const fidelity = fidelityOf(messages, base);
  if (fidelity) diff.fidelity = fidelity;
  const elapsedMs = performance.now() - t0;
  return {
    generatedAt: new Date((opts.now ?? Date.now)()).toISOString(),
    input: opts.input,
    elapsedMs: Math.round(elapsedMs),
    messagesPerSecond: elapsedMs > 0 ? Math.round((messages.length / elapsedMs) * 1000 * 10) / 10 : 0,
    diff,
    gate: checkGate(opts.gate ?? [], diff.counts),
  };
}
export * from './rehearse.js';
