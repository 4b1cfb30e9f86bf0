import { expect, test, type Page } from "@playwright/test";
import { signedInOwner } from "./support";

/**
 * WhatsApp with no Meta account, as a new café owner tries it on a laptop and on a phone: write
 * a template with an image header and buttons, see it previewed and approved by the sandbox's
 * review, import a customer with a phone number, send a campaign, and see the message delivered
 * and read, the customer's (simulated) reply and the 24-hour window it opens.
 */

const VIEWPORTS = [
  { name: "laptop", width: 1366, height: 768 },
  { name: "phone", width: 390, height: 844 },
] as const;

async function reloadUntil(page: Page, check: () => Promise<boolean>, timeoutMs = 30_000) {
  const deadline = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error("timed out waiting for the page to change");
    await page.waitForTimeout(1_000);
    await page.reload();
  }
}

for (const viewport of VIEWPORTS) {
  test.describe(`on a ${viewport.name} (${viewport.width}×${viewport.height})`, () => {
    test.use({ viewport: { width: viewport.width, height: viewport.height } });

    test("a sandbox WhatsApp template, campaign, receipts and a reply", async ({ page }) => {
      test.setTimeout(150_000);
      const { slug } = await signedInOwner(page, {
        name: "Meera Cafe",
        workspace: `Meera Cafe ${viewport.name}`,
      });

      // A template with an image header and buttons, previewed as WhatsApp shows it.
      await page.goto(`/w/${slug}/templates/new?channel=whatsapp`);
      await expect(page.getByText("Sandbox: reviewed here, not by Meta")).toBeVisible();
      await page.getByLabel("Name", { exact: true }).fill("weekend_cakes");
      await page.getByLabel("Header", { exact: true }).selectOption("IMAGE");
      await page.getByLabel("Header image link").fill("https://cafe.example/cakes.jpg");
      await page.getByLabel("Body").fill("Hi {{1}}, our cakes are 20% off this weekend.");
      await page.getByLabel("Sample value for {{1}}").fill("Asha");
      await page.getByLabel("Variable {{1}} is filled with").selectOption("first_name");
      await page.getByLabel("Footer (optional)").fill("Reply STOP to opt out");
      await page.getByRole("button", { name: "Add button" }).click();
      await page.getByLabel("Button 1 label").fill("Book a table");
      await page.getByRole("button", { name: "Add button" }).click();
      await page.getByLabel("Button 2 kind").selectOption("URL");
      await page.getByLabel("Button 2 label").fill("See the menu");
      await page.getByLabel("Button 2 web address").fill("https://cafe.example/menu");
      const preview = page.getByRole("figure", { name: "WhatsApp preview" });
      await expect(preview.getByRole("img", { name: "Image header: cakes.jpg" })).toBeVisible();
      await expect(preview).toContainText("Hi Asha, our cakes are 20% off this weekend.");
      await expect(preview.getByRole("list", { name: "Buttons" })).toContainText("Book a table");
      await expect(preview.getByRole("list", { name: "Buttons" })).toContainText("See the menu");
      await page.getByRole("button", { name: "Submit to the sandbox review" }).click();

      // Pending review, then approved by itself after a few seconds.
      await expect(page.getByRole("heading", { level: 1, name: "weekend_cakes" })).toBeVisible();
      const review = page.locator("section, .card").filter({ hasText: "Review" }).first();
      await expect(review).toContainText("Sandbox");
      await expect(review).toContainText("Approved", { timeout: 20_000 });
      await expect(review).toContainText("Can start conversations.");

      // One customer who agreed to WhatsApp.
      await page.goto(`/w/${slug}/contacts/import`);
      await page.getByLabel("CSV file").setInputFiles({
        name: "customers.csv",
        mimeType: "text/csv",
        buffer: Buffer.from("Name,Phone\nAsha Rao,+919812340001\n", "utf8"),
      });
      await page.getByRole("button", { name: "Upload and continue" }).click();
      await expect(page.getByRole("heading", { name: "2. Match the columns" })).toBeVisible();
      await page.getByLabel("…or a new list named").fill("Regulars");
      await page.getByRole("checkbox", { name: "WhatsApp" }).check();
      await page.getByLabel("Where did they give consent?").fill("counter sign-up sheet");
      await page.getByRole("button", { name: "Start import" }).click();
      const summary = page.getByRole("table").filter({ hasText: "Rows read" });
      await expect(summary.getByRole("row", { name: /New contacts/ })).toContainText("1", {
        timeout: 30_000,
      });

      // A campaign with the template, sent in the sandbox.
      await page.goto(`/w/${slug}/campaigns/new`);
      await page.getByLabel("Campaign name").fill("Weekend cakes");
      await page.getByRole("radio", { name: "WhatsApp" }).check();
      await page.getByRole("button", { name: "Next" }).click();
      await page.getByRole("radio", { name: "List: Regulars" }).check();
      await page.getByRole("button", { name: "Next" }).click();
      await page
        .getByLabel("Template", { exact: true })
        .selectOption({ label: "weekend_cakes (en)" });
      await page.getByRole("button", { name: "Next" }).click();
      await page.getByRole("radio", { name: "Send now" }).check();
      await page.getByRole("button", { name: "Continue to review" }).click();
      await page.getByRole("button", { name: "Send campaign" }).click();
      const progress = page.getByRole("progressbar", { name: "Campaign progress" });
      await expect(progress).toHaveAttribute("aria-valuenow", "100", { timeout: 30_000 });

      // The message: delivered, then read, then the customer writes back.
      await page.goto(`/w/${slug}/messages`);
      const link = page.getByRole("link", { name: /WhatsApp message to \+919812340001/ });
      await reloadUntil(page, async () => (await link.count()) > 0);
      await link.first().click();
      await expect(page.getByText("Sandbox: not sent to anyone")).toBeVisible();
      const status = page.locator(".card").filter({ hasText: "Timeline" }).first();
      await reloadUntil(page, async () => (await status.textContent())?.includes("Read") ?? false);
      await expect(status).toContainText("Delivered");
      await reloadUntil(
        page,
        async () => (await page.getByRole("list", { name: "Replies" }).count()) > 0,
      );
      const replies = page.locator(".card").filter({ hasText: "Replies" }).first();
      await expect(replies).toContainText("24-hour window open");
      await expect(replies.getByRole("list", { name: "Replies" })).toContainText("sandbox");

      // The contact page shows the window too.
      await page.getByRole("link", { name: "+919812340001" }).click();
      await expect(page.getByText("WhatsApp 24-hour window open")).toBeVisible();

      // Nothing is wider than the screen.
      const overflow = await page.evaluate(
        () => document.documentElement.scrollWidth - document.documentElement.clientWidth,
      );
      expect(overflow).toBeLessThanOrEqual(0);
    });
  });
}
