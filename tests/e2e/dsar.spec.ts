import { expect, test } from "@playwright/test";
import { unzipSync, strFromU8 } from "fflate";
import { readFileSync } from "node:fs";
import { followMailLink, signedInOwner } from "./support";

/**
 * A person asks a business for a copy of their data, in Chromium: they submit the request at
 * the business's privacy portal, confirm it through the link in the (sandbox) mail, the
 * workspace owner approves it in Privacy requests, and the export downloads as a zip holding
 * the person's record.
 */

test("submit at /dsar/<slug>, verify by mail, approve as the owner, download the export", async ({
  page,
  browser,
}) => {
  test.setTimeout(120_000);
  const { slug } = await signedInOwner(page, { name: "Rhea Owner", workspace: "Rhea Teas" });
  const email = `esha-${Date.now()}@example.com`;
  await page.goto(`/w/${slug}/contacts/new`);
  await page.getByLabel("Name").fill("Esha Gupta");
  await page.getByLabel("Email address").fill(email);
  await page.getByRole("button", { name: "Create contact" }).click();
  await expect(page).toHaveURL(new RegExp(`/w/${slug}/contacts/\\d+`));

  // The requester, with no account and no session.
  const requesterContext = await browser.newContext();
  const requester = await requesterContext.newPage();
  await requester.goto(`/dsar/${slug}`);
  await requester.getByRole("radio", { name: "Get a copy of my data to download" }).check();
  await requester.getByLabel("Email address").fill(email);
  await requester.getByRole("button", { name: "Send request" }).click();
  await expect(requester.getByText("If we hold data about you, we have sent a link")).toBeVisible();
  await followMailLink(requester, email, /Confirm your privacy request/);
  await requester.getByRole("button", { name: "Confirm my request" }).click();
  await expect(
    requester.getByRole("heading", { level: 1, name: "Your privacy request" }),
  ).toBeVisible();
  await expect(requester.getByRole("cell", { name: "Rhea Teas" })).toBeVisible();

  // The owner approves it from the workspace's queue; the menu counts it until then.
  await page.reload();
  const queue = page
    .getByRole("navigation", { name: "Workspace" })
    .getByRole("link", { name: "Privacy requests 1 waiting for a decision" });
  await expect(queue).toBeVisible();
  for (const [width, height] of [
    [1366, 768],
    [390, 844],
  ] as const) {
    await page.setViewportSize({ width, height });
    await page.screenshot({
      path: `test-results/screens/privacy-badge-${width}.png`,
      fullPage: true,
    });
  }
  await page.setViewportSize({ width: 1366, height: 768 });
  await queue.click();
  await page.getByRole("link", { name: "Export of their data" }).click();
  await page.getByLabel("I checked this request and want it carried out").check();
  await page.getByRole("button", { name: "Approve and carry it out" }).click();

  // The export is written in the background: it appears when ready.
  const link = page.getByRole("link", { name: "Download the export (zip)" });
  await expect(async () => {
    await page.reload();
    await expect(link).toBeVisible({ timeout: 1_000 });
  }).toPass({ timeout: 30_000 });
  // Decided: nothing waits any more.
  await expect(
    page.getByRole("navigation", { name: "Workspace" }).getByText("waiting for a decision"),
  ).toHaveCount(0);
  const [download] = await Promise.all([page.waitForEvent("download"), link.click()]);
  const files = unzipSync(new Uint8Array(readFileSync((await download.path())!)));
  const everything = Object.values(files)
    .map((file) => strFromU8(file))
    .join("\n");
  expect(everything).toContain(email);
  expect(everything).toContain("Esha Gupta");
  await requesterContext.close();
});
