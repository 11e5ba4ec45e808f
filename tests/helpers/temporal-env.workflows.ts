/** Workflow used by tests/temporal-env.test.ts to prove the helper's environment works. */
import { defineSearchAttributeKey, SearchAttributeType } from '@temporalio/common';
import { sleep, upsertSearchAttributes } from '@temporalio/workflow';

const CATEGORY = defineSearchAttributeKey('LoopwrightCategory', SearchAttributeType.KEYWORD);

export async function waitThenTag(category: string): Promise<string> {
  // Ten minutes of workflow time: instant on the time-skipping service.
  await sleep('10 minutes');
  upsertSearchAttributes([{ key: CATEGORY, value: category }]);
  return `tagged ${category}`;
}
