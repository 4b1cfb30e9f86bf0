import { expect, test, type Page } from "@playwright/test";
import { signedInOwner } from "./support";

/**
 * Bulk actions on the contacts list with JavaScript on, in Chromium: tick the page with the
 * header checkbox, tag everyone, tick one row and delete it after the confirmation. Then the
 * message log filtered by channel and status. Screenshots of both pages at a laptop and a
 * phone width land in test-results/ for a person to look at.
 */

async function addContact(page: Page, slug: string, input: Record<string, string>) {
  await page.goto(`/w/${slug}/contacts/new`);
  for (const [label, value] of Object.entries(input)) await page.getByLabel(label).fill(value);
  await page.getByRole("button", { name: "Create contact" }).click();
  await expect(page).toHaveURL(new RegExp(`/w/${slug}/contacts/\\d+`));
}

/**
 * Full-page screenshots at a laptop and a phone width. What this spec owns (the bulk bar, the
 * confirmation, the filters) must fit the width: the table scrolls inside its own box.
 */
async function shoot(page: Page, name: string, own: string[]) {
  for (const [label, width, height] of [
    ["laptop", 1366, 768],
    ["phone", 390, 844],
  ] as const) {
    await page.setViewportSize({ width, height });
    await page.screenshot({ path: `test-results/screens/${name}-${label}.png`, fullPage: true });
    for (const selector of own) {
      const box = await page.locator(selector).first().boundingBox();
      expect(box, `${selector} on ${name}`).not.toBeNull();
      expect(box!.x + box!.width, `${selector} at ${width}px`).toBeLessThanOrEqual(width);
      if (label === "phone") {
        await page
          .locator(selector)
          .first()
          .screenshot({ path: `test-results/screens/${name}-${label}-part.png` });
      }
    }
  }
  await page.setViewportSize({ width: 1366, height: 768 });
}

test("tick contacts, tag them, delete one after confirming; filter the message log", async ({
  page,
}) => {
  test.setTimeout(120_000);
  const { slug } = await signedInOwner(page, {
    name: "Kavya Bulk",
    workspace: "Kavya Cafe",
  });
  await addContact(page, slug, { Name: "Asha Rao", "Email address": "asha@example.com" });
  await addContact(page, slug, {
    Name: "Bilal Khan",
    "Email address": "bilal@example.com",
    "Phone number": "98765 43210",
  });
  await addContact(page, slug, { Name: "Chen Wei", "Phone number": "+65 9123 4567" });

  await page.goto(`/w/${slug}/contacts`);
  const status = page.getByText(/chosen\.$|act on them\.$/);
  await expect(status).toHaveText("Tick contacts to act on them.");
  await page.getByLabel("Select all contacts on this page").check();
  await expect(status).toHaveText("3 contacts chosen.");
  await expect(page.getByLabel("Select Asha Rao")).toBeChecked();

  // Tag everyone ticked; the tag field is there for a tag action only.
  await page.getByLabel("Action").selectOption({ label: "Add a tag" });
  await page.getByLabel("Tag name").fill("VIP");
  await shoot(page, "contacts-bulk", [".bulk-bar"]);
  await page.getByRole("button", { name: "Apply" }).click();
  await expect(page.getByText("Tagged 3 contacts “VIP”.")).toBeVisible();
  await expect(page.getByRole("row", { name: /Chen Wei/ })).toContainText("VIP");
  await expect(status).toHaveText("Tick contacts to act on them.");

  // Delete one: first a confirmation with the count, nothing gone yet.
  await page.getByLabel("Select Chen Wei").check();
  await expect(status).toHaveText("1 contact chosen.");
  await page.getByLabel("Action").selectOption({ label: "Delete…" });
  await expect(page.getByLabel("Tag name")).toBeHidden();
  await page.getByRole("button", { name: "Apply" }).click();
  await expect(page.getByRole("heading", { name: "Delete 1 contact?" })).toBeVisible();
  await expect(page.getByRole("row", { name: /Chen Wei/ })).toBeVisible();
  await shoot(page, "contacts-bulk-confirm", [".danger-zone"]);
  await page.getByRole("button", { name: "Delete 1 contact" }).click();
  await expect(page.getByText("Deleted 1 contact.")).toBeVisible();
  await expect(page.getByRole("row", { name: /Chen Wei/ })).toHaveCount(0);
  await expect(page.getByRole("row", { name: /Asha Rao/ })).toBeVisible();

  // A message to filter: an SMS in the sandbox.
  await page.getByRole("link", { name: "Bilal Khan" }).click();
  const send = page.getByRole("form", { name: "Send a message" });
  await send.getByLabel("Channel", { exact: true }).selectOption({ label: "SMS (sandbox)" });
  await send.getByLabel("SMS text").fill("Your table is ready");
  await send.getByRole("button", { name: "Send message" }).click();
  await expect(page.getByText("SMS message queued in the sandbox")).toBeVisible();

  await page.goto(`/w/${slug}/messages`);
  await page.getByLabel("Channel").selectOption({ label: "SMS" });
  await page.getByRole("button", { name: "Apply" }).click();
  await expect(page).toHaveURL(/channel=sms/);
  await expect(page.getByRole("row").filter({ hasText: "Your table is ready" })).toBeVisible();
  await shoot(page, "messages-filtered", ["form.filters"]);

  await page.getByLabel("Channel").selectOption({ label: "Email" });
  await page.getByRole("button", { name: "Apply" }).click();
  await expect(page.getByText("No messages match")).toBeVisible();
  await expect(page.getByLabel("Channel")).toHaveValue("email");
  await page.getByRole("link", { name: "Show all messages" }).click();
  await expect(page.getByRole("row").filter({ hasText: "Your table is ready" })).toBeVisible();
});
