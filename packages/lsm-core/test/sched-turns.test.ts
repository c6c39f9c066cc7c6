import { describe, expect, it } from "vitest";
import { Slice, setTurnBudgetMs, TURN_BUDGET_MS } from "../src/sched/turns.ts";

const spinUntil = (t: number): void => {
  while (performance.now() < t) {
    // burn the share on purpose
  }
};

describe("Slice", () => {
  it("has no share before it first pauses, so work started from host code pauses at its first check", () => {
    expect(new Slice().expired()).toBe(true);
  });

  it("resumes on a later event-loop turn, after callbacks queued before it", async () => {
    const order: string[] = [];
    setImmediate(() => order.push("host"));
    const slice = new Slice();
    await slice.pause();
    order.push("job");
    expect(order).toEqual(["host", "job"]);
  });

  it("gets a fresh share from its first check after resuming, and is spent once the share has passed", async () => {
    const slice = new Slice();
    await slice.pause();
    const start = performance.now();
    expect(slice.expired()).toBe(false);
    spinUntil(start + TURN_BUDGET_MS + 1);
    expect(slice.expired()).toBe(true);
  });

  it("splits one turn between the jobs that paused together, each timed from when it starts", async () => {
    const a = new Slice();
    const b = new Slice();
    const ran: string[] = [];
    const job = async (name: string, slice: Slice): Promise<void> => {
      await slice.pause();
      const start = performance.now();
      expect(slice.expired(), `${name} starts with its share`).toBe(false);
      // Half the budget each: past it (with a margin), the slice is spent even though the turn's budget is not.
      spinUntil(start + TURN_BUDGET_MS / 2 + 0.5);
      expect(slice.expired(), `${name} used its half`).toBe(true);
      ran.push(name);
    };
    await Promise.all([job("a", a), job("b", b)]);
    expect(ran).toEqual(["a", "b"]);
  });

  it("checks the clock only every few ticks", async () => {
    const slice = new Slice();
    await slice.pause();
    slice.expired();
    spinUntil(performance.now() + TURN_BUDGET_MS + 1);
    const ticks: boolean[] = [];
    for (let i = 0; i < 32; i++) ticks.push(slice.tick());
    expect(ticks.slice(0, 31).every((t) => !t)).toBe(true);
    expect(ticks[31]).toBe(true);
  });

  it("pauses at every check with a zero budget (for tests that need a job to keep running)", async () => {
    const previous = setTurnBudgetMs(0);
    try {
      const slice = new Slice();
      await slice.pause();
      expect(slice.expired()).toBe(false);
      expect(slice.expired()).toBe(true);
      expect(slice.pausePoint()).toBeInstanceOf(Promise);
    } finally {
      setTurnBudgetMs(previous);
    }
  });
});
