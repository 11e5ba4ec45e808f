// What workflow test files on one loop harness share: the harness created before the file's tests
// and closed after them (useLoopHarness hands it to the file through a setter, so the tests keep
// reading a plain `h`), and the type and message of an Update its validator refused.
import { WorkflowUpdateFailedError } from '@temporalio/client';
import { ApplicationFailure } from '@temporalio/common';
import { afterAll, beforeAll } from 'vitest';
import { createLoopHarness, type HarnessOptions, type LoopHarness } from './loop-harness.js';

export function useLoopHarness(opts: HarnessOptions, set: (h: LoopHarness) => void, timeouts: { start?: number; close?: number } = {}): void {
  let harness: LoopHarness | undefined;
  beforeAll(async () => {
    harness = await createLoopHarness(opts);
    set(harness);
  }, timeouts.start ?? 180_000);
  afterAll(async () => {
    await harness?.close();
  }, timeouts.close ?? 180_000);
}

/** The failure type and message of an Update refused by its validator; throws if it was accepted. */
export async function updateRefusal(p: Promise<unknown>): Promise<{ type: string; message: string }> {
  try {
    await p;
  } catch (e) {
    if (e instanceof WorkflowUpdateFailedError && e.cause instanceof ApplicationFailure) return { type: e.cause.type ?? 'untyped', message: e.cause.message };
    throw e;
  }
  throw new Error('expected the update to be refused');
}
