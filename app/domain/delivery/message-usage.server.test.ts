import { beforeAll, describe, expect, it } from "vitest";
import { getControlDb } from "~/db/control.server";
import { usageDaily } from "~/db/schema/control";
import { makeWorkspace } from "../../../tests/support/workspaces";
import type { WorkspaceContext } from "../context";
import { messageUsage, messageUsageCsv, usageMonthStart } from "./message-usage.server";

/** Reading metered usage: the 30-day window, this month's totals, other workspaces left out. */

const NOW = new Date("2030-05-03T20:00:00.000Z");
let a: WorkspaceContext;
let b: WorkspaceContext;

function meter(workspaceId: string, day: string, channel: string, messages: number) {
  getControlDb().insert(usageDaily).values({ workspaceId, day, channel, messages }).run();
}

beforeAll(async () => {
  a = await makeWorkspace("usage-a");
  b = await makeWorkspace("usage-b");
  meter(a.workspaceId, "2030-05-03", "whatsapp", 10);
  meter(a.workspaceId, "2030-05-03", "sms", 4);
  meter(a.workspaceId, "2030-05-01", "email", 7);
  meter(a.workspaceId, "2030-04-20", "whatsapp", 5); // in the window, last month
  meter(a.workspaceId, "2030-04-03", "sms", 99); // 31 days ago: outside the window
  meter(a.workspaceId, "2030-05-04", "telegram", 1); // a UTC day that has not begun
  meter(b.workspaceId, "2030-05-03", "whatsapp", 1000);
});

describe("message usage", () => {
  it("counts per channel and day over the last 30 UTC days, and this month", () => {
    const usage = messageUsage(a.workspaceId, NOW);
    expect(usage.from).toBe("2030-04-04");
    expect(usage.to).toBe("2030-05-03");
    expect(usage.days).toHaveLength(30);
    expect(usage.days[0]!.day).toBe("2030-04-04");
    expect(usage.days.at(-1)).toEqual({
      day: "2030-05-03",
      counts: { email: 0, whatsapp: 10, sms: 4, telegram: 0 },
      total: 14,
    });
    expect(usage.days.find((d) => d.day === "2030-04-20")?.total).toBe(5);
    expect(usage.days.filter((d) => d.total > 0).map((d) => d.day)).toEqual([
      "2030-04-20",
      "2030-05-01",
      "2030-05-03",
    ]);
    expect(usage.windowTotals).toEqual({ email: 7, whatsapp: 15, sms: 4, telegram: 0, total: 26 });
    expect(usage.monthStart).toBe("2030-05-01");
    expect(usage.monthTotals).toEqual({ email: 7, whatsapp: 10, sms: 4, telegram: 0, total: 21 });
    expect(usageMonthStart(NOW).toISOString()).toBe("2030-05-01T00:00:00.000Z");
  });

  it("writes one CSV line per day and channel", () => {
    const csv = messageUsageCsv(messageUsage(a.workspaceId, NOW)).split("\r\n");
    expect(csv[0]).toBe("day_utc,channel,messages");
    expect(csv).toHaveLength(1 + 30 * 4 + 1); // header, rows, the empty string after the last CRLF
    expect(csv.slice(-5)).toEqual([
      "2030-05-03,email,0",
      "2030-05-03,whatsapp,10",
      "2030-05-03,sms,4",
      "2030-05-03,telegram,0",
      "",
    ]);
  });

  it("a workspace with no sends shows zeros", () => {
    const usage = messageUsage(b.workspaceId, new Date("2030-06-10T00:00:00Z"));
    expect(usage.windowTotals.total).toBe(0);
    expect(usage.monthTotals.total).toBe(0);
    expect(usage.days.every((d) => d.total === 0)).toBe(true);
  });
});
