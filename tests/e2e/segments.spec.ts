import { expect, test, type Page } from "@playwright/test";
import { signedInOwner } from "./support";

/**
 * Building a segment with JavaScript on, in Chromium: the live count follows every edit,
 * changing what a condition filters on swaps its inputs at once, and the saved segment shows
 * its count in the list. Then an export of it, downloaded from the export page.
 */

async function addContact(page: Page, slug: string, input: Record<string, string>) {
  await page.goto(`/w/${slug}/contacts/new`);
  for (const [label, value] of Object.entries(input)) await page.getByLabel(label).fill(value);
  await page.getByRole("button", { name: "Create contact" }).click();
  await expect(page).toHaveURL(new RegExp(`/w/${slug}/contacts/\\d+`));
}

test("build a segment, watch its count, save it and export it", async ({ page }) => {
  test.setTimeout(90_000);
  const { slug } = await signedInOwner(page, {
    name: "Sita Segments",
    workspace: "Sita Stores",
  });

  await addContact(page, slug, { Name: "Asha Rao", "Email address": "asha@example.com" });
  await addContact(page, slug, {
    Name: "Bilal Khan",
    "Email address": "bilal@example.com",
    "Phone number": "98765 43210",
  });
  await addContact(page, slug, { Name: "Chen Wei", "Phone number": "+65 9123 4567" });

  await page.goto(`/w/${slug}/segments`);
  await page.getByRole("link", { name: "New segment" }).first().click();
  const count = page.getByTestId("segment-count");
  await expect(count).toHaveText("3 contacts match");

  // A new condition starts as "Email consent granted": nobody yet.
  await page.getByRole("button", { name: "Add condition" }).click();
  await expect(count).toHaveText("0 contacts match");

  // Filter on the email address instead: the comparison choices change at once.
  await page.getByLabel("Filter on").selectOption("email");
  await expect(page.getByLabel("Comparison")).toHaveValue("is_set");
  await expect(count).toHaveText("2 contacts match");

  // "Has no value" via the live count, without pressing anything.
  await page.getByLabel("Comparison").selectOption("not_set");
  await expect(count).toHaveText("1 contact matches");
  await page.getByLabel("Comparison").selectOption("is_set");
  await expect(count).toHaveText("2 contacts match");

  // AND the phone number: one left.
  await page.getByRole("button", { name: "Add condition" }).click();
  await page.getByLabel("Filter on").nth(1).selectOption("phone");
  await expect(count).toHaveText("1 contact matches");
  await expect(page.getByRole("row", { name: /Bilal Khan/ })).toBeVisible();

  // Switch the top group to OR: everyone with either.
  await page.getByLabel("Match").first().selectOption("or");
  await expect(count).toHaveText("3 contacts match");
  await page.getByLabel("Match").first().selectOption("and");
  await expect(count).toHaveText("1 contact matches");

  await page.getByLabel("Segment name").fill("Email and phone");
  await page.getByRole("button", { name: "Save segment" }).click();
  await expect(page.getByRole("heading", { level: 1, name: "Email and phone" })).toBeVisible();
  await expect(page.getByText("Segment saved.")).toBeVisible();
  await expect(count).toHaveText("1 contact matches");

  await page.goto(`/w/${slug}/segments`);
  const row = page.getByRole("row", { name: /Email and phone/ });
  await expect(row).toContainText("Email address has a value and Phone number has a value");
  await expect(row.getByRole("cell").nth(1)).toHaveText("1");

  // Export it: the page follows the worker until the link appears.
  await row.getByRole("link", { name: /Export/ }).click();
  await expect(page.getByLabel("Contacts to export")).toHaveValue(/^segment:\d+$/);
  await page.getByRole("button", { name: "Start export" }).click();
  await expect(page.getByText("Export started.")).toBeVisible();
  const link = page.getByRole("link", { name: "Download CSV" });
  await expect(link).toBeVisible({ timeout: 20_000 });
  const [download] = await Promise.all([page.waitForEvent("download"), link.click()]);
  expect(download.suggestedFilename()).toMatch(
    new RegExp(`^contacts-${slug}-\\d{4}-\\d{2}-\\d{2}\\.csv$`),
  );
});
