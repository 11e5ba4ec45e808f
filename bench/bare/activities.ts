// The baseline's two activities: they return their input, so the benchmark measures Temporal and
// the SDK, not work.
export function createBareActivities() {
  return {
    async first(input: string): Promise<string> {
      return input;
    },
    async second(input: string): Promise<string> {
      return input;
    },
  };
}
