import { eq } from "drizzle-orm";
import { describe, expect, it } from "vitest";
import { getControlDb } from "~/db/control.server";
import { workspaces } from "~/db/schema/control";
import { contactImportErrors, contactImports, contactImportWarnings } from "~/db/schema/tenant";
import { newWorkspaceId, provisionTenantDb } from "~/db/tenants.server";
import { contactsHousekeeping } from "./housekeeping.server";

const DAY = 24 * 3_600_000;

describe("contactsHousekeeping", () => {
  it("deletes rejected rows 30 days after an import finished, and keeps newer ones", async () => {
    const id = newWorkspaceId();
    getControlDb()
      .insert(workspaces)
      .values({ id, slug: id.replace("_", "-"), name: "Tidy" })
      .run();
    const db = provisionTenantDb(id);
    const now = new Date("2026-11-26T03:17:00Z");
    const base = {
      status: "completed" as const,
      fileName: "f.csv",
      filePath: "uploads/f.csv",
      fileBytes: 10,
      createdAt: new Date(now.getTime() - 40 * DAY),
    };
    db.insert(contactImports)
      .values([
        { ...base, id: "imp_old", finishedAt: new Date(now.getTime() - 31 * DAY) },
        { ...base, id: "imp_new", finishedAt: new Date(now.getTime() - 29 * DAY) },
      ])
      .run();
    db.insert(contactImportErrors)
      .values([
        { importId: "imp_old", row: 2, column: "phone", reason: '"98765" is not a phone number.' },
        { importId: "imp_new", row: 3, column: "email", reason: "Invalid email." },
      ])
      .run();

    db.insert(contactImportWarnings)
      .values([
        { importId: "imp_old", row: 4, column: "phone", reason: '"12345" is not valid.' },
        { importId: "imp_new", row: 5, column: "phone", reason: '"12345" is not valid.' },
      ])
      .run();

    const result = await contactsHousekeeping(now);
    expect(result).toMatchObject({ importErrorsDeleted: 2, failed: 0 });
    expect(
      db
        .select()
        .from(contactImportWarnings)
        .all()
        .map((w) => w.row),
    ).toEqual([5]);
    expect(result.workspaces).toBeGreaterThanOrEqual(1);
    const left = db.select().from(contactImportErrors).all();
    expect(left.map((e) => e.importId)).toEqual(["imp_new"]);
    // The import itself (counts, no personal data) stays.
    expect(
      db.select().from(contactImports).where(eq(contactImports.id, "imp_old")).get(),
    ).toBeTruthy();
  });
});
