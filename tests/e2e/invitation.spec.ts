import { expect, test } from "@playwright/test";
import { arriveFromOwnAddress, followMailLink, PASSWORD, signedInOwner } from "./support";

/**
 * An owner invites someone who has no account yet. The invited person opens the mail, creates
 * an account with the invited address (filled in for them), verifies it, signs in, and is
 * brought back to the invitation to accept it: on a laptop and on a phone.
 */

const VIEWPORTS = [
  { name: "laptop", width: 1366, height: 768 },
  { name: "phone", width: 390, height: 844 },
] as const;

for (const viewport of VIEWPORTS) {
  test(`an invitation is accepted by someone without an account (${viewport.name})`, async ({
    browser,
  }) => {
    test.setTimeout(90_000);
    const owner = await (await browser.newContext()).newPage();
    const { slug } = await signedInOwner(owner, {
      name: `Chaitra ${viewport.name}`,
      workspace: `Chai Corner ${viewport.name}`,
    });
    const invited = `ravi-${viewport.name}-${Date.now()}@example.com`;
    await owner.goto(`/w/${slug}/members`);
    await owner.getByLabel("Email address").fill(invited);
    await owner.getByLabel("Role").selectOption({ label: "Marketer" });
    await owner.getByRole("button", { name: "Send invitation" }).click();
    await expect(owner.getByRole("cell", { name: invited })).toBeVisible();

    const context = await browser.newContext({
      viewport: { width: viewport.width, height: viewport.height },
    });
    const page = await context.newPage();
    await arriveFromOwnAddress(page);
    const shot = (step: string) =>
      page.screenshot({
        path: `test-results/screens/invitation-${step}-${viewport.width}.png`,
        fullPage: true,
      });
    await followMailLink(page, invited, /invited you to Chai Corner/);
    await expect(
      page.getByRole("heading", { name: `Join Chai Corner ${viewport.name}` }),
    ).toBeVisible();
    await shot("1-invitation");
    await page.getByRole("link", { name: "Create an account" }).click();

    // The invited address is filled in and cannot be changed here.
    const email = page.getByLabel("Work email");
    await expect(email).toHaveValue(invited);
    await expect(email).not.toBeEditable();
    await expect(page.getByText("The invitation is for this address")).toBeVisible();
    await page.getByLabel("Your name").fill("Ravi Kumar");
    await page.getByLabel("Password").fill(PASSWORD);
    await page.getByLabel("I am 18 or older").check();
    await page.getByLabel(/I have read and accept the/).check();
    await shot("2-signup");
    await page.getByRole("button", { name: "Create account" }).click();
    await expect(page.getByRole("heading", { name: "Check your email" })).toBeVisible();

    await followMailLink(page, invited, /Confirm your email address/);
    await page.getByRole("button", { name: "Verify my email" }).click();
    await expect(page.getByText("Your email address is verified.")).toBeVisible();
    await page.getByLabel("Email").fill(invited);
    await page.getByLabel("Password").fill(PASSWORD);
    await page.getByRole("button", { name: "Sign in" }).click();

    // Back at the invitation, signed in with the invited address.
    await expect(page).toHaveURL(/\/invitations\//);
    await shot("3-accept");
    await page.getByRole("button", { name: "Accept invitation" }).click();
    await expect(page).toHaveURL(new RegExp(`/w/${slug}$`));
    await expect(page.getByText("Welcome to the workspace.")).toBeVisible();
    await shot("4-workspace");

    // The owner sees the new member.
    await owner.goto(`/w/${slug}/members`);
    await expect(owner.getByRole("row", { name: /Ravi Kumar/ })).toBeVisible();
    await context.close();
  });
}

test("signing in as someone else cannot accept another person's invitation", async ({
  browser,
}) => {
  test.setTimeout(60_000);
  const owner = await (await browser.newContext()).newPage();
  const { slug } = await signedInOwner(owner, { name: "Omana Owner", workspace: "Dosa Hut" });
  const stranger = await (await browser.newContext()).newPage();
  const { email: strangerEmail } = await signedInOwner(stranger, {
    name: "Sunil Stranger",
    workspace: "Other Place",
  });
  const invited = `meera-${Date.now()}@example.com`;
  await owner.goto(`/w/${slug}/members`);
  await owner.getByLabel("Email address").fill(invited);
  await owner.getByRole("button", { name: "Send invitation" }).click();
  await expect(owner.getByRole("cell", { name: invited })).toBeVisible();

  await followMailLink(stranger, invited, /invited you to Dosa Hut/);
  await expect(stranger.getByText(`You are signed in as ${strangerEmail}`)).toBeVisible();
  await expect(stranger.getByRole("button", { name: "Accept invitation" })).toHaveCount(0);
  await expect(stranger.getByRole("link", { name: "Create an account" })).toHaveCount(0);
});
