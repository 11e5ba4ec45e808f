/** The benchmark's workflow: one activity, the smallest realistic unit of work. */
import { proxyActivities } from '@temporalio/workflow';

const { work } = proxyActivities<{ work(n: number): Promise<number> }>({ startToCloseTimeout: '30s' });

export async function oneActivity(n: number): Promise<number> {
  return await work(n);
}
