import { mkdirSync } from "node:fs";
import { expect, test, type Page } from "@playwright/test";
import { signedInOwner } from "./support";

/**
 * The knowledge base and "What the AI sees" as a manager uses them, with screenshots at a
 * laptop and a phone width in test-results/screens/ (to look at) and a check that neither
 * page scrolls sideways.
 */

const DIR = "test-results/screens";
const WIDTHS = [
  { width: 1366, height: 768 },
  { width: 390, height: 844 },
] as const;

async function shoot(page: Page, name: string) {
  for (const size of WIDTHS) {
    await page.setViewportSize(size);
    await page.reload();
    await expect(page.locator("h1").first()).toBeVisible();
    await page.screenshot({ path: `${DIR}/${name}-${size.width}.png`, fullPage: true });
    const widths = await page.evaluate(() => ({
      scroll: document.documentElement.scrollWidth,
      window: window.innerWidth,
    }));
    expect.soft(widths.scroll, `${name} at ${size.width}px`).toBeLessThanOrEqual(widths.window);
  }
}

test("a manager fills the knowledge base and reads what the AI sees", async ({ page }) => {
  test.setTimeout(120_000);
  mkdirSync(DIR, { recursive: true });
  const { slug } = await signedInOwner(page, { name: "Kavya Owner", workspace: "Kavya Chai" });

  await page.goto(`/w/${slug}/settings`);
  await page.getByRole("link", { name: "knowledge base" }).click();
  await expect(page.getByRole("heading", { level: 1, name: "Knowledge base" })).toBeVisible();
  await expect(page.getByText("No snippets yet")).toBeVisible();
  await shoot(page, "knowledge-empty");

  const snippets = [
    [
      "Delivery days and charges",
      "We deliver Monday to Saturday, 9am to 9pm.\nDelivery is free above ₹499; below that it is ₹40.",
    ],
    [
      "Refunds",
      "Refunds go back to the original payment method within 7 days of the return reaching us.",
    ],
    ["डिलीवरी का समय", "हम सोमवार से शनिवार, सुबह 9 से रात 9 बजे तक डिलीवरी करते हैं।"],
  ];
  for (const [title, body] of snippets) {
    await page.getByLabel("Title").fill(title!);
    await page.getByLabel("Text").fill(body!);
    await page.getByRole("button", { name: "Add snippet" }).click();
    await expect(page.getByRole("heading", { level: 3, name: title })).toBeVisible();
  }
  await shoot(page, "knowledge-list");

  await page.getByRole("searchbox", { name: "Search" }).fill("when is my refund paid");
  await page.getByRole("button", { name: "Search", exact: true }).click();
  // Best match first.
  await expect(page.getByRole("heading", { level: 3 }).first()).toHaveText("Refunds");
  await page.getByRole("link", { name: "Delete… Refunds" }).click();
  await expect(page.getByRole("heading", { name: "Delete “Refunds”?" })).toBeVisible();
  await shoot(page, "knowledge-delete");
  await page.getByRole("button", { name: "Delete snippet" }).click();
  await expect(page.getByText("Snippet “Refunds” deleted.")).toBeVisible();

  await page.getByRole("link", { name: "What the AI sees" }).click();
  await expect(page.getByRole("heading", { level: 1, name: "What the AI sees" })).toBeVisible();
  await expect(page.getByText(/The newest 20 messages of the conversation/)).toBeVisible();
  await shoot(page, "ai-sees");
});
