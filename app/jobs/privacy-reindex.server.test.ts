import { eq } from "drizzle-orm";
import { describe, expect, it } from "vitest";
import { getControlDb } from "~/db/control.server";
import { jobRuns, subjectIndex } from "~/db/schema/control";
import { createContact } from "~/domain/contacts/contacts.server";
import { subjectMarker } from "~/domain/privacy/subject-index-sync.server";
import { subjectHashes, workspacesHolding } from "~/domain/privacy/subject-index.server";
import { startPrivacyIndexUpkeep } from "./privacy-reindex.server";
import { makeWorkspace } from "../../tests/support/workspaces";

process.env.BASE_URL = "https://engage.test";

describe("privacy index upkeep at start", () => {
  it("builds the index at the first start only, later starts repair marked workspaces", async () => {
    const ctx = await makeWorkspace("upkeep", { name: "Upkeep" });
    createContact(ctx, { name: "Asha", email: "asha@upkeep.test", phone: null });
    const control = getControlDb();
    const asha = subjectHashes({ email: "asha@upkeep.test" });
    const runs = () =>
      control.select().from(jobRuns).where(eq(jobRuns.name, "privacy-reindex")).all();

    // An install from before the index: contacts, no entries, never built.
    control.delete(subjectIndex).run();
    expect(workspacesHolding(asha)).toEqual([]);
    await startPrivacyIndexUpkeep();
    expect(workspacesHolding(asha)).toEqual([ctx.workspaceId]);
    expect(runs()).toHaveLength(1);
    expect(runs()[0]).toMatchObject({ outcome: "ok", trigger: "schedule" });
    expect(JSON.parse(runs()[0]!.counts!)).toMatchObject({
      workspaces: 1,
      contacts: 1,
      entries: 1,
    });

    // Built: the next start leaves unmarked workspaces alone...
    control.delete(subjectIndex).run();
    await startPrivacyIndexUpkeep();
    expect(workspacesHolding(asha)).toEqual([]);
    expect(runs()).toHaveLength(1);

    // ...and rebuilds one a crash left marked.
    control
      .insert(subjectIndex)
      .values({ hash: subjectMarker("rebuild:crashed"), workspaceId: ctx.workspaceId })
      .run();
    await startPrivacyIndexUpkeep();
    expect(control.select().from(subjectIndex).all()).toEqual([
      { hash: asha[0], workspaceId: ctx.workspaceId },
    ]);
  });
});
