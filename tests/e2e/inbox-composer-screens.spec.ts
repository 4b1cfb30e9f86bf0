import { mkdirSync } from "node:fs";
import { expect, test } from "@playwright/test";
import { signedInOwner } from "./support";

/**
 * The conversation page's composer with an AI draft shown, at a laptop and a phone width
 * (test-results/screens/), and the "/" canned responses listbox used from the keyboard.
 */

const DIR = "test-results/screens";

async function seed(slug: string): Promise<number> {
  process.env.DATA_DIR = process.env.E2E_DATA_DIR;
  const { eq } = await import("drizzle-orm");
  const { getControlDb, closeControlDb } = await import("~/db/control.server");
  const { workspaces } = await import("~/db/schema/control");
  const { getTenantDb, closeAllTenantDbs } = await import("~/db/tenants.server");
  const { aiDrafts, cannedResponses, inboxSettings } = await import("~/db/schema/tenant-inbox");
  const { customerWrites } = await import("../support/inbox-seed");
  const ws = getControlDb().select().from(workspaces).where(eq(workspaces.slug, slug)).get()!;
  const db = getTenantDb(ws.id);
  const conversationId = customerWrites(
    { db },
    {
      name: "Asha Rao",
      phone: "+919800000501",
      channel: "whatsapp",
      text: "Hi! Is the blue kurta back in stock in size M?",
      at: Date.now() - 10 * 60_000,
    },
  );
  const now = new Date();
  db.insert(inboxSettings)
    .values({ id: 1, updatedAt: now, aiEnabled: true })
    .onConflictDoUpdate({
      target: inboxSettings.id,
      set: { aiEnabled: true, updatedAt: now },
    })
    .run();
  db.insert(aiDrafts)
    .values({
      conversationId,
      status: "ready",
      body: "Hi Asha! Yes, the blue kurta is back in size M. Shall I keep one aside for you?",
      createdAt: now,
      completedAt: now,
    })
    .run();
  db.insert(cannedResponses)
    .values({
      shortcut: "thanks",
      title: "Thank you",
      body: "Thank you for writing to us, {{ contact.first_name }}!",
      createdAt: now,
      updatedAt: now,
    })
    .run();
  db.insert(cannedResponses)
    .values({
      shortcut: "order",
      title: "Order on its way",
      body: "Your order {{ prompt: Order number }} is on its way, {{ contact.first_name }}.",
      createdAt: now,
      updatedAt: now,
    })
    .run();
  closeAllTenantDbs();
  closeControlDb();
  return conversationId;
}

test("conversation page with a draft at 1366x768 and 390x844", async ({ page }) => {
  test.setTimeout(120_000);
  mkdirSync(DIR, { recursive: true });
  const { slug } = await signedInOwner(page, { name: "Cora Owner", workspace: "Composer Shots" });
  const id = await seed(slug);
  for (const [w, h] of [
    [1366, 768],
    [390, 844],
  ] as const) {
    await page.setViewportSize({ width: w, height: h });
    await page.goto(`/w/${slug}/inbox/${id}`);
    await expect(page.getByRole("region", { name: "AI draft" })).toContainText("blue kurta");
    await expect(page.getByRole("button", { name: "Suggest a reply" })).toBeVisible();
    await page.screenshot({ path: `${DIR}/composer-draft-${w}.png`, fullPage: true });
  }
  await page.getByRole("button", { name: "Use this draft" }).click();
  await expect(page.getByLabel("Reply")).toHaveValue(/blue kurta/);
  await page.getByLabel("Reply").fill("Sure. /tha");
  await expect(page.getByRole("listbox", { name: "Canned responses" })).toBeVisible();
  await expect(
    page
      .getByRole("listbox", { name: "Canned responses" })
      .getByRole("option", { name: "/thanks — Thank you" }),
  ).toBeVisible();
  await page.getByLabel("Reply").press("Enter");
  await expect(page.getByLabel("Reply")).toHaveValue("Sure.\n\nThank you for writing to us, Asha!");
  await page.reload();
  await expect(page.getByLabel("Reply")).toHaveValue("Sure.\n\nThank you for writing to us, Asha!");
  await page.getByRole("button", { name: "Send", exact: true }).click();
  await expect(page.getByText("Reply queued.")).toBeVisible();
  await expect(page.getByLabel("Reply")).toHaveValue("");
  await page.reload();
  await expect(page.getByLabel("Reply")).toHaveValue("");
});

test("without JavaScript: use the draft, send it, ask for another", async ({ page, browser }) => {
  test.setTimeout(120_000);
  mkdirSync(DIR, { recursive: true });
  const { slug } = await signedInOwner(page, { name: "Nora NoScript", workspace: "No Script" });
  const id = await seed(slug);
  const context = await browser.newContext({
    javaScriptEnabled: false,
    storageState: await page.context().storageState(),
  });
  const plain = await context.newPage();
  for (const [w, h] of [
    [1366, 768],
    [390, 844],
  ] as const) {
    await plain.setViewportSize({ width: w, height: h });
    await plain.goto(`/w/${slug}/inbox/${id}`);
    await expect(plain.getByRole("region", { name: "AI draft" })).toContainText("blue kurta");
    await plain.screenshot({ path: `${DIR}/composer-draft-nojs-${w}.png`, fullPage: true });
  }
  await plain.getByRole("link", { name: "Use this draft" }).click();
  await expect(plain.getByLabel("Reply")).toHaveValue(/blue kurta/);
  await plain.getByRole("button", { name: "Send", exact: true }).click();
  await expect(plain.getByText("Reply queued.")).toBeVisible();
  // The human reply closed the draft; a new one can be asked for.
  await expect(plain.getByRole("region", { name: "AI draft" })).toHaveCount(0);
  await expect(plain.getByRole("button", { name: "Suggest a reply" })).toBeEnabled();
  await context.close();
});

test("a canned response that asks for a value, from the keyboard", async ({ page }) => {
  test.setTimeout(120_000);
  const { slug } = await signedInOwner(page, { name: "Pia Prompt", workspace: "Prompted" });
  const id = await seed(slug);
  await page.goto(`/w/${slug}/inbox/${id}`);
  await page.getByLabel("Reply").fill("Hello! /ord");
  await expect(
    page
      .getByRole("listbox", { name: "Canned responses" })
      .getByRole("option", { name: "/order — Order on its way" }),
  ).toBeVisible();
  await page.getByLabel("Reply").press("Enter");
  // The value it needs is asked first, in a field that has the focus.
  await expect(page.getByLabel("Order number")).toBeFocused();
  await page.getByLabel("Order number").fill("A-1001");
  await page.getByLabel("Order number").press("Enter");
  await expect(page.getByLabel("Reply")).toHaveValue(
    "Hello!\n\nYour order A-1001 is on its way, Asha.",
  );
});
