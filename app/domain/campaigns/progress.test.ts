import { describe, expect, it } from "vitest";
import { summariseProgress } from "./progress";

describe("summariseProgress", () => {
  it("counts cumulatively and measures progress against the whole audience", () => {
    const summary = summariseProgress({
      status: "sending",
      total: 8,
      audience: 10,
      queued: 10,
      byStatus: {
        queued: 2,
        sending: 1,
        sent: 1,
        delivered: 2,
        read: 1,
        failed: 1,
        bounced: 0,
        skipped: 2,
      },
      opened: 0,
      clicked: 1,
      replied: 1,
    });
    expect(summary).toEqual({
      status: "sending",
      total: 8,
      audience: 10,
      queued: 10,
      percent: 70,
      counts: {
        waiting: 3,
        sent: 4,
        delivered: 3,
        seen: 1,
        clicked: 1,
        replied: 1,
        failed: 1,
        skipped: 2,
      },
      running: true,
    });
  });

  it("an empty campaign is 0%, a finished one 100% and no longer running", () => {
    const base = {
      total: 0,
      audience: 0,
      queued: 0,
      byStatus: {},
      opened: 0,
      clicked: 0,
      replied: 0,
    };
    expect(summariseProgress({ ...base, status: "scheduled" })).toMatchObject({
      percent: 0,
      running: true,
    });
    expect(summariseProgress({ ...base, status: "completed" })).toMatchObject({
      percent: 100,
      running: false,
    });
    // Email opens count as seen even when the status did not change to read.
    expect(
      summariseProgress({
        ...base,
        status: "paused",
        total: 4,
        audience: 4,
        byStatus: { delivered: 4 },
        opened: 3,
      }),
    ).toMatchObject({ percent: 100, counts: { seen: 3 }, running: false });
  });
});
