import { expect, test } from "@playwright/test";
import { signedInOwner } from "./support";

/**
 * A marketer's first campaign, in Chromium: import 50 people with email consent into a list,
 * write an email template with Claude's help (the Anthropic fake streams three suggestions),
 * walk the campaign wizard to the review, send it in the sandbox, watch the progress bar reach
 * 100%, and open the report.
 */

const PEOPLE = 50;
const CSV = [
  "Name,Email",
  ...Array.from({ length: PEOPLE }, (_, i) => `Customer ${i + 1},customer${i + 1}@example.com`),
].join("\n");

test("AI-written email template, a campaign to 50 imported contacts, progress, report", async ({
  page,
}) => {
  test.setTimeout(120_000);
  const { slug } = await signedInOwner(page, {
    name: "Kavya Campaigns",
    workspace: "Kavya Sweets",
  });

  // 50 people who agreed to email, into a list.
  await page.goto(`/w/${slug}/contacts/import`);
  await page.getByLabel("CSV file").setInputFiles({
    name: "newsletter.csv",
    mimeType: "text/csv",
    buffer: Buffer.from(CSV, "utf8"),
  });
  await page.getByRole("button", { name: "Upload and continue" }).click();
  await expect(page.getByRole("heading", { name: "2. Match the columns" })).toBeVisible();
  await page.getByLabel("…or a new list named").fill("Newsletter");
  await page.getByRole("checkbox", { name: "Email" }).check();
  await page.getByLabel("Where did they give consent?").fill("newsletter sign-up form");
  await page.getByRole("button", { name: "Start import" }).click();
  const summary = page.getByRole("table").filter({ hasText: "Rows read" });
  await expect(summary.getByRole("row", { name: /New contacts/ })).toContainText(String(PEOPLE), {
    timeout: 30_000,
  });

  // An email template, its body written with AI.
  await page
    .getByRole("navigation", { name: "Workspace" })
    .getByRole("link", { name: "Templates" })
    .click();
  await page.getByRole("link", { name: "New template" }).first().click();
  await page.getByRole("link", { name: "Email", exact: true }).click();
  await page.getByRole("textbox", { name: "Name", exact: true }).fill("Diwali offer");
  await page
    .getByRole("textbox", { name: "Subject", exact: true })
    .fill("{{ first_name }}, Diwali offers are here");
  await page.getByLabel("Block 1 heading text").fill("Happy Diwali, {{ first_name }}");
  const writer = page.getByRole("region", { name: "Write the body with AI" });
  await writer.getByLabel("What should the message say?").fill("20% off sweets until Sunday");
  await writer.getByRole("button", { name: "Write 3 suggestions" }).click();
  await writer.getByRole("button", { name: "Use this (suggestion 2)" }).click();
  // The suggestion fills the empty text block; the marketer can still edit it.
  const used = page.getByLabel("Block 2 text");
  await expect(used).toHaveValue(/20% off/);
  await used.fill(`${await used.inputValue()} Visit us soon.`);
  await page.getByRole("button", { name: "Create template" }).click();
  await expect(page.getByRole("heading", { level: 1, name: /Diwali offer/ })).toBeVisible();

  // The wizard: channel → audience → template → schedule → review.
  await page
    .getByRole("navigation", { name: "Workspace" })
    .getByRole("link", { name: "Campaigns" })
    .click();
  await page.getByRole("link", { name: "New campaign" }).first().click();
  await page.getByLabel("Campaign name").fill("Diwali 2026");
  await page.getByRole("radio", { name: "Email" }).check();
  await page.getByRole("button", { name: "Next" }).click();
  await page.getByRole("radio", { name: "List: Newsletter" }).check();
  await page.getByRole("button", { name: "Next" }).click();
  await page.getByLabel("Template", { exact: true }).selectOption({ label: "Diwali offer" });
  await page.getByRole("button", { name: "Next" }).click();
  await page.getByRole("radio", { name: "Send now" }).check();
  await page.getByRole("button", { name: "Continue to review" }).click();

  // The review says what will happen before anything is queued.
  await expect(page.getByRole("heading", { level: 1, name: "Review: Diwali 2026" })).toBeVisible();
  const audience = page.locator("section").filter({ hasText: "Audience" }).first();
  await expect(audience).toContainText(String(PEOPLE));
  await page.getByRole("button", { name: "Send campaign" }).click();

  // The campaign page's progress bar reaches 100% by itself (it refreshes while sending).
  const progress = page.getByRole("progressbar", { name: "Campaign progress" });
  await expect(progress).toBeVisible();
  await expect(progress).toHaveAttribute("aria-valuenow", "100", { timeout: 60_000 });

  // The report: everyone delivered in the sandbox.
  await page.getByRole("link", { name: "Report" }).click();
  await expect(page.getByRole("heading", { level: 1, name: "Report: Diwali 2026" })).toBeVisible();
  const funnel = page.getByRole("table", { name: "Funnel numbers" });
  await expect(funnel.getByRole("row", { name: /Delivered/ })).toContainText(String(PEOPLE));
});
