import { beforeAll, describe, expect, it } from "vitest";
import { inboxSettings } from "~/db/schema/tenant-inbox";
import { makeTeam } from "../../../tests/support/teams";
import type { WorkspaceContext } from "../context";
import { readInboxSettings, settingsToInput, updateInboxSettings } from "./inbox-settings.server";

/**
 * A batch of webhook events runs under a context that reads the inbox settings once; a request
 * reads them fresh each time. Saving settings through such a context must not leave it stale.
 */

let ctx: WorkspaceContext;

beforeAll(async () => {
  ctx = (await makeTeam({ owner: "Sita Settings", workspace: { slug: "settings-reads" } })).ctx;
});

describe("reading the inbox settings", () => {
  it("a request context reads what is stored now", () => {
    ctx.db.delete(inboxSettings).run();
    expect(readInboxSettings(ctx).reopenWithinDays).toBe(7);
    ctx.db
      .insert(inboxSettings)
      .values({ id: 1, reopenWithinDays: 3, updatedAt: new Date() })
      .run();
    expect(readInboxSettings(ctx).reopenWithinDays).toBe(3);
  });

  it("a batch context reads once, and sees its own saves", () => {
    const batch: WorkspaceContext = { ...ctx, readCache: new Map() };
    const first = readInboxSettings(batch);
    ctx.db.update(inboxSettings).set({ reopenWithinDays: 11 }).run();
    // Written by someone else during the batch: the batch keeps the value it started with.
    expect(readInboxSettings(batch).reopenWithinDays).toBe(first.reopenWithinDays);
    const saved = updateInboxSettings(batch, { ...settingsToInput(first), reopenWithinDays: 5 });
    expect(saved.reopenWithinDays).toBe(5);
    expect(readInboxSettings(batch).reopenWithinDays).toBe(5);
  });
});
