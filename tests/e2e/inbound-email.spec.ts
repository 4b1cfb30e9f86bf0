import { mkdirSync } from "node:fs";
import { expect, test } from "@playwright/test";
import { signedInOwner } from "./support";

/**
 * The inbound email settings page at a laptop and a phone width, before and after generating
 * the forwarder secret: screenshots in test-results/screens/, and no sideways scrolling.
 */

const DIR = "test-results/screens";

test("inbound email settings: generate the forwarder secret, shown once", async ({ page }) => {
  mkdirSync(DIR, { recursive: true });
  const { slug } = await signedInOwner(page, { name: "Ines Owner", workspace: "Inbound Shop" });
  const sizes = [
    { width: 1366, height: 768 },
    { width: 390, height: 844 },
  ];
  await page.goto(`/w/${slug}/settings/channels`);
  await page.getByRole("link", { name: "Inbound email" }).first().click();
  await expect(page.getByRole("heading", { name: "Inbound email", level: 1 })).toBeVisible();
  for (const size of sizes) {
    await page.setViewportSize(size);
    await page.screenshot({ path: `${DIR}/inbound-email-${size.width}.png`, fullPage: true });
    const overflow = await page.evaluate(
      () => document.documentElement.scrollWidth - document.documentElement.clientWidth,
    );
    expect(overflow).toBeLessThanOrEqual(0);
  }
  await page.setViewportSize(sizes[0]!);
  await page.getByRole("button", { name: "Generate a secret" }).click();
  await expect(page.getByText("Copy this secret now")).toBeVisible();
  await expect(page.locator(".secret-value")).toContainText("whsec_");
  for (const size of sizes) {
    await page.setViewportSize(size);
    await page.screenshot({
      path: `${DIR}/inbound-email-secret-${size.width}.png`,
      fullPage: true,
    });
    const overflow = await page.evaluate(
      () => document.documentElement.scrollWidth - document.documentElement.clientWidth,
    );
    expect(overflow).toBeLessThanOrEqual(0);
  }
  await page.reload();
  await expect(page.getByText("A signing secret is set")).toBeVisible();
  await expect(page.getByRole("button", { name: "Generate a new secret" })).toBeVisible();
});
