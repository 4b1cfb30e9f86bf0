import { beforeAll, describe, expect, it } from "vitest";
import { makeWorkspace } from "../../../tests/support/workspaces";
import type { WorkspaceContext } from "../context";
import { inboxReport } from "./reports.server";

let ctx: WorkspaceContext;

beforeAll(async () => {
  ctx = await makeWorkspace("inbox-reports-domain");
});

describe("inboxReport", () => {
  it("runs on an empty workspace", () => {
    const report = inboxReport(ctx, { from: "2026-11-01", to: "2026-11-03" });
    expect(report.days).toHaveLength(3);
  });
});
