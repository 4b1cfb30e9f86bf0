import { expect, test } from "@playwright/test";
import { signedInOwner } from "./support";

/** The inbox settings and teams pages at desktop and phone sizes, saved for a look. */

const SIZES = [
  { name: "desktop", width: 1366, height: 768 },
  { name: "phone", width: 390, height: 844 },
];

test("inbox settings and teams pages render at both sizes", async ({ page }) => {
  const { slug } = await signedInOwner(page, { name: "Sam Owner", workspace: "Screens Inbox" });
  await page.goto(`/w/${slug}/settings/teams`);
  await page.getByPlaceholder("e.g. Support").fill("Support");
  await page.getByRole("button", { name: "Add team" }).click();
  await expect(page.getByRole("heading", { name: "Support" })).toBeVisible();
  await page.getByRole("button", { name: "Add member" }).click();
  await page.getByPlaceholder("e.g. Refund").fill("Refund");
  await page.getByRole("button", { name: "Add label" }).click();
  await expect(page.locator(".badge", { hasText: "Refund" })).toBeVisible();
  for (const size of SIZES) {
    await page.setViewportSize({ width: size.width, height: size.height });
    for (const which of ["inbox", "teams"]) {
      await page.goto(`/w/${slug}/settings/${which}`);
      const dir = process.env.SHOTS_DIR ?? "test-results";
      await page.screenshot({ path: `${dir}/${which}-${size.name}.png`, fullPage: true });
      const overflow = await page.evaluate(
        () => document.documentElement.scrollWidth - document.documentElement.clientWidth,
      );
      expect(overflow, `${which} at ${size.name} scrolls sideways`).toBeLessThanOrEqual(0);
    }
  }
});
