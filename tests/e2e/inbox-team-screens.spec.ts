import { expect, test } from "@playwright/test";
import { signedInOwner } from "./support";

/** Screenshots of the conversation sidebar and the list's "For you", desktop and phone. */

async function seed(slug: string): Promise<number> {
  process.env.DATA_DIR = process.env.E2E_DATA_DIR;
  const { eq } = await import("drizzle-orm");
  const { getControlDb, closeControlDb } = await import("~/db/control.server");
  const { memberships, workspaces } = await import("~/db/schema/control");
  const { getTenantDb, closeAllTenantDbs } = await import("~/db/tenants.server");
  const { conversationActivity, conversationLabels, inboxNotifications, labels, teams } =
    await import("~/db/schema/tenant-inbox");
  const { customerWrites } = await import("../support/inbox-seed");
  const ws = getControlDb().select().from(workspaces).where(eq(workspaces.slug, slug)).get()!;
  const db = getTenantDb(ws.id);
  const owner = getControlDb()
    .select()
    .from(memberships)
    .where(eq(memberships.workspaceId, ws.id))
    .get()!;
  const at = new Date(Date.now() - 20 * 60_000);
  const name = "Asha Rao";
  const phone = "+919800000501";
  const text = "Hi! Is the blue kurta back in stock in size M?";
  const conversationId = customerWrites(
    { db },
    { name, phone, channel: "whatsapp", text, at: at.getTime() },
  );
  db.insert(teams).values({ name: "Sales", createdAt: at }).run();
  db.insert(teams).values({ name: "Customer support (nights)", createdAt: at }).run();
  const vip = db
    .insert(labels)
    .values({ name: "VIP", color: "green", createdAt: at })
    .returning()
    .get();
  db.insert(labels).values({ name: "Refund", color: "red", createdAt: at }).run();
  db.insert(conversationLabels).values({ conversationId, labelId: vip.id }).run();
  db.insert(conversationActivity)
    .values({ conversationId, at, kind: "note", body: "Regular customer: offer free shipping." })
    .run();
  db.insert(inboxNotifications)
    .values({ userId: owner.userId, conversationId, kind: "assigned", createdAt: at })
    .run();
  closeAllTenantDbs();
  closeControlDb();
  return conversationId;
}

test("conversation sidebar and For you at 1366x768 and 390x844", async ({ page }) => {
  const { slug } = await signedInOwner(page, { name: "Ina Owner", workspace: "Team Shots" });
  const id = await seed(slug);
  for (const [w, h] of [
    [1366, 768],
    [390, 844],
  ] as const) {
    await page.setViewportSize({ width: w, height: h });
    await page.goto(`/w/${slug}/inbox`);
    await expect(page.getByRole("heading", { name: "For you" })).toBeVisible();
    await page.screenshot({ path: `test-results/inbox-team-list-${w}.png`, fullPage: true });
    await page.goto(`/w/${slug}/inbox/${id}`);
    await expect(page.getByRole("button", { name: "Remove label VIP" })).toBeVisible();
    await page.screenshot({
      path: `test-results/inbox-team-conversation-${w}.png`,
      fullPage: true,
    });
  }
});
