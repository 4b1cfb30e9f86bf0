import { describe, expect, it } from "vitest";
import { dueCountdown, formatDateTimeCompact, listSummary } from "./format";

const DAY = 86_400_000;
const now = new Date("2026-12-07T10:00:00Z");
const at = (ms: number) => new Date(now.getTime() + ms);

describe("dueCountdown", () => {
  it("counts whole days left, and says due today in the last day", () => {
    expect(dueCountdown(at(30 * DAY), now)).toEqual({ text: "30 days left", overdue: false });
    expect(dueCountdown(at(DAY + 1), now)).toEqual({ text: "1 day left", overdue: false });
    expect(dueCountdown(at(DAY - 1), now)).toEqual({ text: "due today", overdue: false });
  });

  it("counts whole days late, at least one from the moment it is due", () => {
    expect(dueCountdown(at(-1), now)).toEqual({ text: "1 day overdue", overdue: true });
    expect(dueCountdown(at(-(DAY + 5_000)), now)).toEqual({ text: "1 day overdue", overdue: true });
    expect(dueCountdown(at(-(2 * DAY + 5_000)), now)).toEqual({
      text: "2 days overdue",
      overdue: true,
    });
    expect(dueCountdown(at(-(3 * DAY + 5_000)), now).text).toBe("3 days overdue");
  });
});

describe("formatDateTimeCompact", () => {
  it("leaves out this year and the zone name, in the given time zone", () => {
    const date = new Date("2026-03-04T09:05:00Z");
    expect(formatDateTimeCompact(date, "UTC", now)).toBe("4 Mar, 09:05");
    expect(formatDateTimeCompact(date, "Asia/Kolkata", now)).toBe("4 Mar, 14:35");
  });

  it("gives the year, and no time, for an earlier year", () => {
    expect(formatDateTimeCompact(new Date("2025-12-31T20:00:00Z"), "UTC", now)).toBe("31 Dec 2025");
    // Already 2026 in India.
    expect(formatDateTimeCompact(new Date("2025-12-31T20:00:00Z"), "Asia/Kolkata", now)).toBe(
      "1 Jan, 01:30",
    );
  });
});

describe("listSummary", () => {
  const users = { one: "user", many: "users" };
  it("says the count, the search and the page in one line", () => {
    expect(listSummary(1, users, "", 1, 1)).toBe("1 user");
    expect(listSummary(12, users, "asha", 2, 3)).toBe("12 users matching “asha” · page 2 of 3");
  });
});
