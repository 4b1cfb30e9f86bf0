import { expect, test } from "@playwright/test";
import { signedInOwner } from "./support";

/** Screenshots of the inbox pages at desktop and phone sizes, with seeded conversations. */

async function seed(slug: string): Promise<number[]> {
  process.env.DATA_DIR = process.env.E2E_DATA_DIR;
  const { eq } = await import("drizzle-orm");
  const { getControlDb, closeControlDb } = await import("~/db/control.server");
  const { workspaces } = await import("~/db/schema/control");
  const { getTenantDb, closeAllTenantDbs } = await import("~/db/tenants.server");
  const { customerWrites } = await import("../support/inbox-seed");
  const ws = getControlDb().select().from(workspaces).where(eq(workspaces.slug, slug)).get()!;
  const db = getTenantDb(ws.id);
  const now = Date.now();
  const people = [
    ["Asha Rao", "+919800000401", "whatsapp", "Hi! Is the blue kurta back in stock in size M?", 30],
    ["Ravi Kumar", "+919800000402", "sms", "Please move my delivery to Saturday morning", 90],
    ["Meera Iyer", "+919800000403", "whatsapp", "Thanks for the quick help yesterday", 26 * 60],
  ] as const;
  const ids: number[] = [];
  for (const [name, phone, channel, text, minutesAgo] of people) {
    const conversationId = customerWrites(
      { db },
      { name, phone, channel, text, at: now - minutesAgo * 60_000 },
    );
    ids.push(conversationId);
  }
  closeAllTenantDbs();
  closeControlDb();
  return ids;
}

test("inbox pages at 1366x768 and 390x844", async ({ page }) => {
  const { slug } = await signedInOwner(page, { name: "Ina Owner", workspace: "Inbox Shots" });
  const [open, , old] = await seed(slug);
  for (const [w, h] of [
    [1366, 768],
    [390, 844],
  ] as const) {
    await page.setViewportSize({ width: w, height: h });
    await page.goto(`/w/${slug}/inbox`);
    await expect(page.getByRole("heading", { name: "Inbox", exact: true })).toBeVisible();
    await page.screenshot({ path: `test-results/inbox-list-${w}.png`, fullPage: true });
    await page.goto(`/w/${slug}/inbox/${open}`);
    await page
      .getByRole("textbox", { name: "Reply" })
      .fill("Yes! Size M is back. Shall I reserve one?");
    await page.screenshot({ path: `test-results/inbox-conversation-${w}.png`, fullPage: true });
    await page.goto(`/w/${slug}/inbox/${old}`);
    await page.screenshot({ path: `test-results/inbox-template-only-${w}.png`, fullPage: true });
  }
});
