import { describe, expect, it } from "vitest";
import { inSample } from "./queue.server";
import { pickWinner, rateOf, type VariantStats } from "./ab-test";

const stats = (key: string, sent: number, values: Partial<VariantStats> = {}): VariantStats => ({
  key,
  sent,
  delivered: 0,
  read: 0,
  opened: 0,
  clicked: 0,
  replied: 0,
  ...values,
});

describe("A/B winner", () => {
  it("picks the highest rate of the chosen metric, not the highest count", () => {
    const a = stats("A", 1000, { clicked: 50, opened: 400 });
    const b = stats("B", 200, { clicked: 20, opened: 40 });
    expect(rateOf(a, "clicked")).toBe(0.05);
    expect(pickWinner([a, b], "clicked")).toBe("B");
    expect(pickWinner([a, b], "opened")).toBe("A");
  });

  it("breaks a tie by evidence, then by key; ignores variants that sent nothing", () => {
    expect(pickWinner([stats("A", 100, { read: 10 }), stats("B", 200, { read: 20 })], "read")).toBe(
      "B",
    );
    expect(pickWinner([stats("B", 100, { read: 10 }), stats("A", 100, { read: 10 })], "read")).toBe(
      "A",
    );
    expect(pickWinner([stats("A", 0), stats("B", 10, { replied: 0 })], "replied")).toBe("B");
    expect(pickWinner([stats("C", 0), stats("B", 0)], "delivered")).toBe("B");
  });
});

describe("A/B sample", () => {
  it("takes about the chosen share of contacts, the same ones every time", () => {
    let inside = 0;
    for (let id = 1; id <= 100_000; id++) if (inSample(id, 20)) inside += 1;
    expect(inside).toBeGreaterThan(19_000);
    expect(inside).toBeLessThan(21_000);
    expect(inSample(12345, 20)).toBe(inSample(12345, 20));
  });
});
