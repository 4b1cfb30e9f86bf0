import { describe, expect, it } from "vitest";
import { isWithinBusinessHours, openedBetween } from "./business-hours.server";
import { parseCsatScore } from "./csat.server";
import { parseDayRanges } from "./inbox-settings.server";
import { findMentions } from "./notes.server";

const HOURS = { businessHours: { days: { mon: [["09:00", "17:00"]] as [string, string][] } } };
const TZ = "Asia/Kolkata";

describe("business hours", () => {
  it("reads the time in the workspace's zone", () => {
    // 2031-03-03 is a Monday; 03:30 UTC is 09:00 in Kolkata.
    expect(isWithinBusinessHours(HOURS, TZ, new Date("2031-03-03T03:30:00Z"))).toBe(true);
    expect(isWithinBusinessHours(HOURS, TZ, new Date("2031-03-03T03:29:00Z"))).toBe(false);
    expect(isWithinBusinessHours(HOURS, TZ, new Date("2031-03-03T11:30:00Z"))).toBe(false);
    expect(isWithinBusinessHours(HOURS, "UTC", new Date("2031-03-03T11:30:00Z"))).toBe(true);
    expect(isWithinBusinessHours({ businessHours: null }, TZ, new Date())).toBe(true);
  });

  it("knows whether the business opened between two closed moments", () => {
    const sundayNight = new Date("2031-03-02T18:00:00Z");
    expect(openedBetween(HOURS, TZ, sundayNight, new Date("2031-03-03T02:00:00Z"))).toBe(false);
    expect(openedBetween(HOURS, TZ, sundayNight, new Date("2031-03-03T12:00:00Z"))).toBe(true);
    expect(openedBetween(HOURS, TZ, sundayNight, new Date("2031-03-20T12:00:00Z"))).toBe(true);
  });

  it("parses and refuses day ranges", () => {
    expect(parseDayRanges("14:00-18:00, 9:00–13:00")).toEqual({
      ranges: [
        ["09:00", "13:00"],
        ["14:00", "18:00"],
      ],
    });
    expect(parseDayRanges("")).toEqual({ ranges: [] });
    expect(parseDayRanges("25:00-26:00")).toHaveProperty("error");
    expect(parseDayRanges("10:00-09:00")).toHaveProperty("error");
    expect(parseDayRanges("09:00-12:00, 11:00-13:00")).toHaveProperty("error");
  });
});

describe("CSAT answers", () => {
  it.each([
    ["5", 5],
    [" 4 ", 4],
    ["5/5", 5],
    ["3 / 5", 3],
    ["⭐⭐⭐⭐", 4],
    ["4️⃣", 4],
    ["1.", 1],
  ])("%j scores %i", (text, score) => expect(parseCsatScore(text)).toBe(score));

  it.each(["6", "0", "5 thanks", "great", "⭐⭐⭐⭐⭐⭐", "10/10"])("%j is not a score", (text) =>
    expect(parseCsatScore(text)).toBeNull(),
  );
});

describe("mentions", () => {
  const members = [
    { userId: "u1", name: "Priya Shah", email: "", role: "agent" as const },
    { userId: "u2", name: "Priya Nair", email: "", role: "agent" as const },
    { userId: "u3", name: "Ravi Kumar", email: "", role: "admin" as const },
  ];
  it("matches full names case-insensitively, and unique first names", () => {
    expect(findMentions("@priya shah can you check? cc @Ravi", members)).toEqual(["u1", "u3"]);
    expect(findMentions("@Priya please", members)).toEqual([]);
    expect(findMentions("mail me at a@ravi.example", members)).toEqual([]);
    expect(findMentions("@Ravi Kumar, @ravi kumar", members)).toEqual(["u3"]);
  });
});
