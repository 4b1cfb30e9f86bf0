import { expect, test } from "@playwright/test";
import { signedInOwner } from "./support";
test("tmp try shots", async ({ page }) => {
  test.setTimeout(90_000);
  const { slug } = await signedInOwner(page, { name: "Olivia Owner", workspace: "Try Shots" });
  for (const size of [{ width: 1366, height: 768 }, { width: 390, height: 844 }]) {
    await page.setViewportSize(size);
    await page.goto(`/w/${slug}/inbox`);
    await page.getByLabel("Customer phone").fill("12");
    await page.getByLabel("Message").fill("Hi");
    await page.getByRole("button", { name: "Simulate customer message" }).click();
    await expect(page.getByText(/not a/).first()).toBeVisible();
    await page.screenshot({ path: `/tmp/e2e-shots/try-error-${size.width}.png`, fullPage: true });
    await page.getByLabel("Customer phone").fill("98765 43210");
    await page.getByLabel("Customer name").fill("Asha Rao");
    await page.getByRole("button", { name: "Simulate customer message" }).click();
    await expect(page.getByText("Simulated customer message received.")).toBeVisible();
    await page.screenshot({ path: `/tmp/e2e-shots/try-list-${size.width}.png`, fullPage: true });
  }
});
