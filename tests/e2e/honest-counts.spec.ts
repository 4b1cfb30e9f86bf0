import { expect, test, type Page } from "@playwright/test";
import { signedInOwner } from "./support";

/**
 * The counts staying still while the owner browses: an email campaign with a tracked link is
 * sent in the sandbox, the report's Opened and Clicked numbers are noted, then the owner opens
 * every view of the sent email inside the app (the template and its preview, the campaign, the
 * message log, a message page with its HTML part, a click on the link in it, the contact's
 * page, the report) and comes back: the numbers have not moved, and the browser never asked
 * for an open pixel or a tracked link.
 */

const SHOP = "https://shop.example/diwali";
const PEOPLE = ["Asha Rao,asha@example.com", "Vikram Iyer,vikram@example.com"];

async function engagement(page: Page, slug: string, campaignId: string) {
  await page.goto(`/w/${slug}/campaigns/${campaignId}/report`);
  const funnel = page.getByRole("table", { name: "Funnel numbers" });
  await expect(funnel.getByRole("row", { name: /Delivered/ })).toContainText(String(PEOPLE.length));
  const cell = async (step: RegExp) =>
    (await funnel.getByRole("row", { name: step }).getByRole("cell").first().innerText()).trim();
  return {
    opened: await cell(/^Opened/),
    clicked: await cell(/^Clicked/),
    links: await page
      .locator("section")
      .filter({ has: page.getByRole("heading", { name: "Clicks per link" }) })
      .innerText(),
  };
}

const VIEWPORTS = [
  { name: "laptop", width: 1366, height: 768 },
  { name: "phone", width: 390, height: 844 },
];

for (const viewport of VIEWPORTS) {
  test(`the counts staying still while the owner browses (${viewport.name})`, async ({
    page,
  }, testInfo) => {
    test.setTimeout(150_000);
    await page.setViewportSize(viewport);
    // Every request the browser makes: none may be an open pixel or a tracked link.
    const tracking: string[] = [];
    page.on("request", (request) => {
      if (/\/t\/[oc]\//.test(new URL(request.url()).pathname)) tracking.push(request.url());
    });
    // The shop is outside this machine: answer for it so a click lands somewhere.
    await page.route("https://shop.example/**", (route) =>
      route.fulfill({ contentType: "text/html", body: "<h1>Shop</h1>" }),
    );

    const { slug } = await signedInOwner(page, {
      name: "Meera Cafe",
      workspace: "Meera Cafe",
    });

    // Two regulars who agreed to email.
    await page.goto(`/w/${slug}/contacts/import`);
    await page.getByLabel("CSV file").setInputFiles({
      name: "regulars.csv",
      mimeType: "text/csv",
      buffer: Buffer.from(["Name,Email", ...PEOPLE].join("\n"), "utf8"),
    });
    await page.getByRole("button", { name: "Upload and continue" }).click();
    await page.getByLabel("…or a new list named").fill("Regulars");
    await page.getByRole("checkbox", { name: "Email" }).check();
    await page.getByLabel("Where did they give consent?").fill("counter sign-up sheet");
    await page.getByRole("button", { name: "Start import" }).click();
    const summary = page.getByRole("table").filter({ hasText: "Rows read" });
    await expect(summary.getByRole("row", { name: /New contacts/ })).toContainText(
      String(PEOPLE.length),
      { timeout: 30_000 },
    );

    // An email template with a tracked link.
    await page.goto(`/w/${slug}/templates/new`);
    await page.getByRole("link", { name: "Email", exact: true }).click();
    await page.getByRole("textbox", { name: "Name", exact: true }).fill("Diwali sweets");
    await page.getByRole("textbox", { name: "Subject", exact: true }).fill("Diwali sweets are in");
    await page.getByLabel("Block 1 heading text").fill("Happy Diwali, {{ first_name }}");
    await page.getByLabel("Block 2 text").fill(`Fresh sweets every morning. [Order now](${SHOP})`);
    await page.getByRole("button", { name: "Create template" }).click();
    await expect(page.getByRole("heading", { level: 1, name: /Diwali sweets/ })).toBeVisible();
    const templateUrl = page.url();

    // The campaign, sent now in the sandbox.
    await page.goto(`/w/${slug}/campaigns/new`);
    await page.getByLabel("Campaign name").fill("Diwali 2026");
    await page.getByRole("radio", { name: "Email" }).check();
    await page.getByRole("button", { name: "Next" }).click();
    await page.getByRole("radio", { name: "List: Regulars" }).check();
    await page.getByRole("button", { name: "Next" }).click();
    await page.getByLabel("Template", { exact: true }).selectOption({ label: "Diwali sweets" });
    await page.getByRole("button", { name: "Next" }).click();
    await page.getByRole("radio", { name: "Send now" }).check();
    await page.getByRole("button", { name: "Continue to review" }).click();
    await page.getByRole("button", { name: "Send campaign" }).click();
    const progress = page.getByRole("progressbar", { name: "Campaign progress" });
    await expect(progress).toHaveAttribute("aria-valuenow", "100", { timeout: 60_000 });
    const campaignUrl = page.url();
    const campaignId = /\/campaigns\/(\d+)/.exec(campaignUrl)![1]!;

    const before = await engagement(page, slug, campaignId);
    expect(before.opened).toBe("0");
    expect(before.clicked).toBe("0");

    // Every in-app view of the sent email.
    await page.goto(templateUrl);
    const preview = page.frameLocator('iframe[title="Email preview (HTML part)"]');
    await expect(preview.getByRole("link", { name: "Order now" })).toBeVisible();
    await expect(preview.getByRole("link", { name: "Order now" })).toHaveAttribute("href", SHOP);

    await page.goto(campaignUrl);
    await expect(page.getByRole("heading", { level: 1, name: /Diwali 2026/ })).toBeVisible();

    await page.goto(`/w/${slug}/messages`);
    await page
      .getByRole("link", { name: /message to asha@example\.com/ })
      .first()
      .click();
    await expect(
      page.getByRole("heading", { level: 1, name: /to asha@example\.com/ }),
    ).toBeVisible();
    const messageUrl = page.url();
    const html = page.frameLocator('iframe[title="HTML part of the email"]');
    const link = html.getByRole("link", { name: "Order now" });
    // The link goes straight to the shop: no tracked redirect in the app's copy of the email.
    await expect(link).toBeVisible();
    await expect(link).toHaveAttribute("href", SHOP);
    await expect(html.locator('img[src*="/t/o/"]')).toHaveCount(0);
    await page.screenshot({
      path: testInfo.outputPath(`message-${viewport.width}.png`),
      fullPage: true,
    });
    await link.click();
    await page.goto(messageUrl);
    // The contact's page, by the message page's own link to it. Followed by address: a click
    // right after a load can be dropped by the client router while it is still fetching its
    // route manifest, and this test is about counts, not about that race.
    const contactHref = await page
      .getByRole("link", { name: "asha@example.com" })
      .first()
      .getAttribute("href");
    expect(contactHref).toMatch(new RegExp(`^/w/${slug}/contacts/\\d+$`));
    await page.goto(contactHref!);
    await expect(page.getByRole("heading", { level: 1, name: /Asha/ })).toBeVisible();

    // Back to the report: nothing moved.
    const after = await engagement(page, slug, campaignId);
    expect(after).toEqual(before);
    await page.screenshot({
      path: testInfo.outputPath(`report-${viewport.width}.png`),
      fullPage: true,
    });
    // And the message page's timeline has no Opened or Clicked step.
    await page.goto(messageUrl);
    const timeline = page.getByRole("list").filter({ hasText: "Created" });
    await expect(timeline).not.toContainText("Opened");
    await expect(timeline).not.toContainText("Clicked");
    expect(tracking).toEqual([]);
  });
}
