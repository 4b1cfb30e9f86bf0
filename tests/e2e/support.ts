import { expect, type Page } from "@playwright/test";

export const PASSWORD = "amber kettle orbit meadow";

/**
 * Opens the newest mail to `to` in the dev mailbox and follows the first link in its text. The
 * mailbox is read in a tab of its own: it answers only requests made on this machine, not
 * through a proxy, and the person's page may be arriving from an address of its own.
 */
export async function followMailLink(page: Page, to: string, subject: RegExp) {
  const mailbox = await page.context().newPage();
  let href: string | null;
  try {
    await mailbox.goto("/dev/mailbox");
    const row = mailbox
      .getByRole("row")
      .filter({ hasText: to })
      .filter({ hasText: subject })
      .first();
    await row.getByRole("link").click();
    await expect(mailbox.getByRole("heading", { level: 1, name: subject })).toBeVisible();
    href = await mailbox.locator("pre.mail-text a").first().getAttribute("href");
  } finally {
    await mailbox.close();
  }
  expect(href).toBeTruthy();
  await page.goto(href!);
}

export async function signInWithPassword(page: Page, email: string) {
  await page.goto("/login");
  await page.getByLabel("Email").fill(email);
  await page.getByLabel("Password").fill(PASSWORD);
  await page.getByRole("button", { name: "Sign in" }).click();
}

/**
 * This page's requests come from an address of its own, as each real person's do: the server
 * trusts the loopback proxy header in end-to-end runs (playwright.config.ts), so the per-address
 * sign-up limit stays on and still lets a whole suite of new people in.
 */
export async function arriveFromOwnAddress(page: Page) {
  const octet = () => Math.floor(Math.random() * 254) + 1;
  await page.setExtraHTTPHeaders({ "X-Forwarded-For": `198.18.${octet()}.${octet()}` });
}

/** A new person signs up, verifies by mail, signs in and creates a workspace; returns its slug. */
export async function signUpWithWorkspace(
  page: Page,
  { name, workspace }: { name: string; workspace: string },
): Promise<{ email: string; slug: string }> {
  await arriveFromOwnAddress(page);
  const email = `${name.split(" ")[0]!.toLowerCase()}-${Date.now()}@example.com`;
  await page.goto("/signup");
  await page.getByLabel("Your name").fill(name);
  await page.getByLabel("Work email").fill(email);
  await page.getByLabel("Password").fill(PASSWORD);
  await page.getByLabel("I am 18 or older").check();
  await page.getByLabel(/I have read and accept the/).check();
  await page.getByRole("button", { name: "Create account" }).click();
  await expect(page.getByRole("heading", { name: "Check your email" })).toBeVisible();
  await followMailLink(page, email, /Confirm your email address/);
  await page.getByRole("button", { name: "Verify my email" }).click();
  await signInWithPassword(page, email);
  await page.getByLabel("Workspace name").fill(workspace);
  const slug = `${workspace.toLowerCase().replace(/[^a-z0-9]+/g, "-")}-${Date.now().toString(36)}`;
  await page.getByLabel("Workspace address").fill(slug);
  await page.getByRole("button", { name: "Create workspace" }).click();
  // Creating the first workspace of a fresh server creates and migrates its database file and
  // starts the analytics worker: on a busy two-core machine that can take longer than 5 seconds.
  await expect(page).toHaveURL(new RegExp(`/w/${slug}$`), { timeout: 30_000 });
  return { email, slug };
}
