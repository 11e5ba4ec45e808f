/**
 * Activities for the conformance suite. Built by a factory over a shared counter map so a test
 * can observe how many times each ran.
 */
import { ApplicationFailure, Context, CancelledFailure } from '@temporalio/activity';

export function createTestActivities(calls: Map<string, number>, testEnvSleep?: (ms: number) => Promise<void>) {
  const bump = (key: string): number => {
    const n = (calls.get(key) ?? 0) + 1;
    calls.set(key, n);
    return n;
  };
  return {
    async greet(name: string): Promise<string> {
      bump(`greet:${name}`);
      return `hello ${name}`;
    },
    async flaky(key: string, failTimes: number, nonRetryable: boolean): Promise<string> {
      const n = bump(`flaky:${key}`);
      if (nonRetryable) throw ApplicationFailure.create({ message: 'fatal', type: 'Fatal' });
      if (n <= failTimes) throw new Error(`attempt ${n} failed`);
      return `ok after ${n}`;
    },
    async stallOnFirstAttempt(): Promise<string> {
      const ctx = Context.current();
      const previous = ctx.info.heartbeatDetails as string | undefined;
      if (ctx.info.attempt === 1) {
        ctx.heartbeat('progress-1');
        // Stop heartbeating: the server must time the attempt out and retry it.
        // Cancellable, so worker shutdown does not wait for the abandoned attempt.
        await ctx.sleep(60_000);
        return 'unreachable';
      }
      return `attempt ${ctx.info.attempt} resumed from ${previous ?? 'nothing'}`;
    },
    async hang(): Promise<string> {
      await Context.current().sleep(60_000).catch(() => undefined);
      return 'late';
    },
    async heartbeatUntilCancelled(): Promise<string> {
      const ctx = Context.current();
      for (;;) {
        ctx.heartbeat();
        try {
          await ctx.sleep(200);
        } catch (e) {
          if (e instanceof CancelledFailure) throw e;
          throw e;
        }
      }
    },
    async busyWait(ms: number): Promise<void> {
      await new Promise((r) => setTimeout(r, ms));
    },
    async sleepVirtually(ms: number): Promise<void> {
      if (!testEnvSleep) throw new Error('sleepVirtually needs the test environment');
      await testEnvSleep(ms);
    },
    async countedSlow(key: string): Promise<number> {
      const n = bump(`counted:${key}`);
      if (testEnvSleep) await testEnvSleep(10);
      return n;
    },
  };
}

export type TestActivities = ReturnType<typeof createTestActivities>;
