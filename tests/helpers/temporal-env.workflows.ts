/** Workflows used by tests/temporal-env.test.ts to prove the helper's servers work. */
import { defineSearchAttributeKey, SearchAttributeType } from '@temporalio/common';
import { condition, defineSignal, setHandler, sleep, upsertSearchAttributes } from '@temporalio/workflow';

const CATEGORY = defineSearchAttributeKey('LoopwrightCategory', SearchAttributeType.KEYWORD);

export async function sleepTenMinutes(): Promise<string> {
  // Ten minutes of workflow time: instant on the time-skipping server.
  await sleep('10 minutes');
  return 'slept';
}

export async function tagNow(category: string): Promise<string> {
  upsertSearchAttributes([{ key: CATEGORY, value: category }]);
  return `tagged ${category}`;
}

const poke = defineSignal('poke');
export async function waitForSignals(): Promise<number> {
  let n = 0;
  setHandler(poke, () => void (n += 1));
  await condition(() => n >= 1_000);
  return n;
}
