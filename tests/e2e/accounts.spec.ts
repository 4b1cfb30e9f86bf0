import { expect, test, type Browser } from "@playwright/test";
import { authenticator } from "otplib";
import { followMailLink, PASSWORD, signInWithPassword } from "./support";

/**
 * The account journeys a new customer takes, in Chromium, by visible labels and roles:
 * sign up, verify by mail, create a workspace, turn on two-factor authentication, sign out,
 * sign back in with password + code, and sign out another device. Then Google sign-in
 * against the fake Google.
 */

/** A code from the next 30-second step: fresh even if this step's code was just used. */
function nextCode(secret: string) {
  return authenticator.clone({ epoch: Date.now() + 30_000 }).generate(secret);
}

async function newPage(browser: Browser, userAgent: string) {
  const context = await browser.newContext({ userAgent });
  return context.newPage();
}

test("sign up, verify, create a workspace, turn on MFA, sign in with a code, revoke a session", async ({
  browser,
}) => {
  test.setTimeout(90_000);
  const email = `asha-${Date.now()}@example.com`;
  const page = await newPage(
    browser,
    "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 Chrome/130.0 Safari/537.36",
  );

  // Sign up.
  await page.goto("/");
  await page
    .getByRole("navigation", { name: "Main" })
    .getByRole("link", { name: "Create account" })
    .click();
  await page.getByLabel("Your name").fill("Asha Rao");
  await page.getByLabel("Work email").fill(email);
  await page.getByLabel("Password").fill(PASSWORD);
  await page.getByLabel("I am 18 or older").check();
  await page.getByLabel(/I have read and accept the/).check();
  await page.getByRole("button", { name: "Create account" }).click();
  await expect(page.getByRole("heading", { name: "Check your email" })).toBeVisible();

  // Verify the address from the mail.
  await followMailLink(page, email, /Confirm your email address/);
  await page.getByRole("button", { name: "Verify my email" }).click();
  await expect(page).toHaveURL(/\/login$/);
  await expect(page.getByText("Your email address is verified.")).toBeVisible();

  // A second device signs in too (its session is revoked at the end).
  const phone = await newPage(
    browser,
    "Mozilla/5.0 (iPhone; CPU iPhone OS 17_5 like Mac OS X) AppleWebKit/605.1.15 Safari/604.1",
  );
  await signInWithPassword(phone, email);
  await expect(phone).toHaveURL(/\/workspaces\/new$/);

  // Sign in and create the first workspace (onboarding).
  await signInWithPassword(page, email);
  await expect(page.getByRole("heading", { name: "Set up your workspace" })).toBeVisible();
  await page.getByLabel("Workspace name").fill("Asha Foods");
  const slug = `asha-foods-${Date.now().toString(36)}`;
  await page.getByLabel("Workspace address").fill(slug);
  await expect(page.getByLabel("Default country for phone numbers")).toHaveValue("IN");
  await page.getByLabel("Currency").selectOption("INR");
  await page.getByRole("button", { name: "Create workspace" }).click();
  await expect(page).toHaveURL(new RegExp(`/w/${slug}$`));
  await expect(page.getByRole("heading", { name: "Welcome, Asha Rao" })).toBeVisible();
  await expect(page.getByRole("navigation", { name: "Workspace" })).toBeVisible();

  // Turn on two-factor authentication.
  await page.getByRole("link", { name: "Turn on two-factor authentication" }).click();
  await expect(page.getByRole("img", { name: "QR code for your authenticator app" })).toBeVisible();
  const secret = (await page.getByLabel("Set-up key").textContent())!.trim();
  expect(secret).toMatch(/^[A-Z2-7]{32}$/);
  await page.getByLabel("Code from the app").fill(authenticator.generate(secret));
  await page.getByRole("button", { name: "Turn on two-factor authentication" }).click();
  await expect(page.getByRole("heading", { name: "Save your recovery codes" })).toBeVisible();
  await expect(
    page.getByRole("list", { name: "Recovery codes" }).getByRole("listitem"),
  ).toHaveCount(10);
  await page.getByRole("link", { name: "I have saved my codes" }).click();
  await expect(page.getByText(/^On\./)).toBeVisible();

  // Sign out, then back in with password and a code.
  await page.getByRole("banner").getByRole("button", { name: "Sign out", exact: true }).click();
  await expect(page.getByRole("link", { name: "Sign in" })).toBeVisible();
  await signInWithPassword(page, email);
  await expect(page.getByRole("heading", { name: "Two-factor authentication" })).toBeVisible();
  await page.getByLabel("Authentication code").fill("000000");
  await page.getByRole("button", { name: "Verify" }).click();
  await expect(page.getByRole("alert").or(page.getByText("That code is not right"))).toContainText(
    "That code is not right",
  );
  await page.getByLabel("Authentication code").fill(nextCode(secret));
  await page.getByRole("button", { name: "Verify" }).click();
  await expect(page.getByRole("heading", { name: "Your workspaces" })).toBeVisible();
  await expect(page.getByRole("link", { name: "Asha Foods" })).toBeVisible();

  // The security page lists the phone's session; sign it out.
  await page
    .getByRole("navigation", { name: "Main" })
    .getByRole("link", { name: "Security" })
    .click();
  const sessions = page.getByRole("table", { name: "Devices signed in to your account" });
  await expect(sessions.getByRole("row", { name: /Chrome on Linux/ })).toContainText("This device");
  await expect(sessions.getByRole("row", { name: /Safari on iOS/ })).toHaveCount(1);
  await page.getByRole("button", { name: /Sign out Safari on iOS/ }).click();
  await expect(page.getByText("That session was signed out.")).toBeVisible();
  await expect(sessions.getByRole("row", { name: /Safari on iOS/ })).toHaveCount(0);

  // The phone is signed out.
  await phone.goto("/account");
  await expect(phone).toHaveURL(/\/login\?redirectTo=%2Faccount$/);
});

test("sign in with Google (the fake) creates an account after age and policy consent", async ({
  page,
}) => {
  await page.goto("/login");
  await page.getByRole("button", { name: "Continue with Google" }).click();
  await expect(page.getByRole("heading", { name: "Sign in with Google (fake)" })).toBeVisible();
  await page.getByRole("button", { name: /Ada Lovelace/ }).click();

  await expect(page.getByRole("heading", { name: "Finish signing up" })).toBeVisible();
  await expect(page.getByText("ada@example.com")).toBeVisible();
  await page.getByRole("button", { name: "Create account" }).click();
  await expect(page.getByText("Confirm that you are 18 or older.")).toBeVisible();
  await page.getByLabel("I am 18 or older").check();
  await page.getByLabel(/I have read and accept the/).check();
  await page.getByRole("button", { name: "Create account" }).click();
  await expect(page.getByRole("heading", { name: "Set up your workspace" })).toBeVisible();

  // Signing out and in again with Google goes straight in: the account exists now.
  await page.getByRole("banner").getByRole("button", { name: "Sign out", exact: true }).click();
  await page.goto("/login");
  await page.getByRole("button", { name: "Continue with Google" }).click();
  await page.getByRole("button", { name: /Ada Lovelace/ }).click();
  await expect(page.getByRole("heading", { name: "Set up your workspace" })).toBeVisible();
});
