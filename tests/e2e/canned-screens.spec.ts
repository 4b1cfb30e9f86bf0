import { expect, test } from "@playwright/test";
import { signedInOwner } from "./support";

/** Screenshots of the canned responses page at desktop and phone widths, with one response. */
for (const [label, size] of [
  ["desktop", { width: 1366, height: 768 }],
  ["phone", { width: 390, height: 844 }],
] as const) {
  test(`canned responses page (${label})`, async ({ page }) => {
    await page.setViewportSize(size);
    const { slug } = await signedInOwner(page, { name: "Olivia Owner", workspace: "Canned Shots" });
    await page.goto(`/w/${slug}/settings/canned-responses`);
    await expect(page.getByText("No canned responses yet")).toBeVisible();
    await page.getByRole("link", { name: "New canned response" }).click();
    await page.getByLabel("Shortcut").fill("order-status");
    await page.getByLabel("Title").fill("Order status");
    await page
      .getByLabel("Text")
      .fill(
        'Hi {{ contact.first_name | default: "there" }}, order {{ prompt: Order number }} ships today.',
      );
    await page.getByRole("button", { name: "Add canned response" }).click();
    await expect(page.getByText("/order-status").first()).toBeVisible();
    await page.screenshot({ path: `/tmp/canned-shots/list-${label}.png`, fullPage: true });
    await page.getByRole("link", { name: "Edit /order-status" }).click();
    await page.screenshot({ path: `/tmp/canned-shots/edit-${label}.png`, fullPage: true });
  });
}
