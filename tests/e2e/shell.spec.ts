import { expect, test } from "@playwright/test";

test.describe("the app shell", () => {
  test("a visitor reads the privacy policy from the home page without console errors", async ({
    page,
  }) => {
    const problems: string[] = [];
    page.on("console", (message) => {
      if (message.type() === "error") problems.push(message.text());
    });
    page.on("pageerror", (error) => problems.push(error.message));

    await page.goto("/");
    await expect(page.getByRole("heading", { level: 1 })).toHaveText(
      "Reach your customers where they are.",
    );
    // Hydration ran under the CSP: Remix's client router is live.
    await expect.poll(() => page.evaluate(() => "__remixRouter" in window)).toBe(true);

    await page.getByRole("contentinfo").getByRole("link", { name: "Privacy policy" }).click();
    await expect(page).toHaveURL(/\/privacy$/);
    await expect(page.getByRole("heading", { level: 1, name: "Privacy Policy" })).toBeVisible();
    await expect(page.getByRole("heading", { name: "6. Your Rights" })).toBeVisible();
    await expect(page.getByRole("cell", { name: "Anthropic" })).toBeVisible();
    expect(problems).toEqual([]);
  });

  test("keyboard users can skip straight to the content", async ({ page }) => {
    await page.goto("/");
    await page.keyboard.press("Tab");
    const skip = page.getByRole("link", { name: "Skip to content" });
    await expect(skip).toBeFocused();
    await page.keyboard.press("Enter");
    await expect(page).toHaveURL(/#main$/);
  });

  test("an unknown address shows a friendly 404 with a way home", async ({ page }) => {
    const response = await page.goto("/this/does/not/exist");
    expect(response?.status()).toBe(404);
    await expect(page.getByRole("heading", { name: "Page not found" })).toBeVisible();
    await page.getByRole("link", { name: "Go to the home page" }).click();
    await expect(page).toHaveURL(/\/$/);
  });
});
