import { beforeAll, describe, expect, it } from "vitest";
import { ValidationError } from "~/lib/errors";
import { thrown } from "../../../tests/support/errors";
import { makeWorkspace } from "../../../tests/support/workspaces";
import type { WorkspaceContext } from "../context";
import { inboxReport, quantile, reportCsvTable, reportRange } from "./reports.server";

/** The report's range rules and arithmetic; the numbers over seeded data are in the route tests. */

let ctx: WorkspaceContext;
// 20:00 UTC on 30 Nov 2026 is already 1 Dec in Kolkata, the workspace's zone.
const NOW = Date.UTC(2026, 10, 30, 20);

beforeAll(async () => {
  ctx = await makeWorkspace("inbox-reports-domain", { now: () => new Date(NOW) });
});

describe("reportRange", () => {
  it("defaults to the 30 days up to today on the workspace's clock", () => {
    expect(reportRange(ctx, {})).toEqual({ from: "2026-11-02", to: "2026-12-01" });
    expect(reportRange(ctx, { from: "2026-11-20" })).toEqual({
      from: "2026-11-20",
      to: "2026-12-01",
    });
    expect(reportRange(ctx, { to: "2026-10-31" })).toEqual({
      from: "2026-10-02",
      to: "2026-10-31",
    });
  });

  it("refuses days that are not dates, a reversed range and more than 366 days", () => {
    for (const [query, field] of [
      [{ from: "2026-02-29" }, "from"],
      [{ from: "1999-12-31" }, "from"],
      [{ to: "31/10/2026" }, "to"],
      [{ from: "2026-11-02", to: "2026-11-01" }, "to"],
      [{ from: "2025-11-30", to: "2026-12-01" }, "to"],
    ] as const) {
      const error = thrown(() => reportRange(ctx, query));
      expect(error, JSON.stringify(query)).toBeInstanceOf(ValidationError);
      expect(Object.keys((error as ValidationError).fieldErrors)).toEqual([field]);
    }
    expect(reportRange(ctx, { from: "2025-12-01", to: "2026-12-01" })).toBeTruthy();
  });
});

describe("quantile", () => {
  it("interpolates between the nearest values", () => {
    expect(quantile([], 0.5)).toBeNull();
    expect(quantile([7], 0.9)).toBe(7);
    expect(quantile([4, 6], 0.5)).toBe(5);
    expect(quantile([10, 20, 30, 50], 0.9)).toBeCloseTo(44);
  });
});

describe("inboxReport", () => {
  it("has a zero day for every day of an empty range", () => {
    const report = inboxReport(ctx, { from: "2026-11-01", to: "2026-11-03" });
    expect(report.days.map((d) => [d.day, d.started, d.firstResponse.medianMs])).toEqual([
      ["2026-11-01", 0, null],
      ["2026-11-02", 0, null],
      ["2026-11-03", 0, null],
    ]);
    expect(report.totals.drafts.rates).toBeNull();
    expect(report.agents).toEqual([]);
  });

  it("reads the CSV table from the query", () => {
    expect(reportCsvTable(null)).toBe("days");
    expect(reportCsvTable("agents")).toBe("agents");
    expect(thrown(() => reportCsvTable("contacts"))).toBeInstanceOf(ValidationError);
  });
});
