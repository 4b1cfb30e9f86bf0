import { mkdirSync, readFileSync } from "node:fs";
import { expect, test, type Page } from "@playwright/test";
import { authenticator } from "otplib";
import { arriveFromOwnAddress, PASSWORD, signedInOwner } from "./support";

/**
 * Every main page at a 1366×768 laptop and a 390×844 phone: a full-page screenshot of each in
 * test-results/screens/ (kept by CI, to look at), and two checks that fail when layout breaks:
 * the page never scrolls sideways (wide tables scroll inside their own box), and no button's
 * label wraps onto a second line.
 */

const WIDTHS = [
  { width: 1366, height: 768 },
  { width: 390, height: 844 },
] as const;
const DIR = "test-results/screens";

/** Buttons (and links dressed as buttons) whose text runs over more than one line. */
async function wrappedButtons(page: Page): Promise<string[]> {
  return page.evaluate(() => {
    const wrapped: string[] = [];
    const buttons = document.querySelectorAll<HTMLElement>(
      "button, .btn, input[type=submit], .link-button",
    );
    for (const button of buttons) {
      if (!button.checkVisibility() || button.getClientRects().length === 0) continue;
      const style = getComputedStyle(button);
      const lineHeight =
        style.lineHeight === "normal"
          ? parseFloat(style.fontSize) * 1.25
          : parseFloat(style.lineHeight);
      let top = Infinity;
      let bottom = -Infinity;
      const walker = document.createTreeWalker(button, NodeFilter.SHOW_TEXT);
      for (let node = walker.nextNode(); node; node = walker.nextNode()) {
        if (!node.textContent?.trim()) continue;
        // Screen-reader-only words sit in a 1 px box: not what a person sees.
        if (node.parentElement?.closest(".visually-hidden")) continue;
        const range = document.createRange();
        range.selectNodeContents(node);
        for (const rect of range.getClientRects()) {
          if (rect.width === 0) continue;
          top = Math.min(top, rect.top);
          bottom = Math.max(bottom, rect.bottom);
        }
      }
      if (bottom - top > lineHeight * 1.6) {
        wrapped.push((button.textContent ?? "").trim().replace(/\s+/g, " ").slice(0, 60));
      }
    }
    return wrapped;
  });
}

/** Wider than the window, and what pokes out (the first few culprits, for the failure message). */
async function horizontalOverflow(page: Page) {
  return page.evaluate(() => {
    const width = window.innerWidth;
    const culprits: string[] = [];
    if (document.documentElement.scrollWidth > width) {
      for (const el of document.body.querySelectorAll<HTMLElement>("*")) {
        // Inside a box that scrolls on its own, poking out is fine.
        if (el.parentElement?.closest(".table-scroll")) continue;
        const rect = el.getBoundingClientRect();
        if (rect.right > width + 1 && rect.width > 0 && culprits.length < 5) {
          culprits.push(
            `${el.tagName.toLowerCase()}.${el.className}`.slice(0, 80) + ` → ${rect.right}px`,
          );
        }
      }
    }
    return { scrollWidth: document.documentElement.scrollWidth, width, culprits };
  });
}

/** Opens `path` at each width, saves `<name>-<width>.png` and checks the layout. */
async function screen(page: Page, name: string, path: string) {
  for (const size of WIDTHS) {
    await page.setViewportSize(size);
    await page.goto(path);
    await expect(page.locator("h1").first()).toBeVisible();
    await page.screenshot({ path: `${DIR}/${name}-${size.width}.png`, fullPage: true });
    const overflow = await horizontalOverflow(page);
    // Soft: one run reports every page that breaks, not just the first.
    expect
      .soft(
        overflow.scrollWidth,
        `${name} at ${size.width}px scrolls sideways: ${overflow.culprits.join("; ")}`,
      )
      .toBeLessThanOrEqual(overflow.width);
    expect
      .soft(await wrappedButtons(page), `${name} at ${size.width}px has wrapped buttons`)
      .toEqual([]);
  }
}

const CSV = [
  "Name,Email,Phone",
  "Anita Desai,anita@example.com,+919812345601",
  "Rahul Mehta,rahul@example.com,+919812345602",
  "Priya Nair,priya@example.com,+919812345603",
  "Vikram Singh,vikram@example.com,+919812345604",
  "Meera Iyer,meera@example.com,+919812345605",
].join("\n");

test("on a phone the workspace menu folds behind a button that opens every page", async ({
  page,
}) => {
  test.setTimeout(120_000);
  mkdirSync(DIR, { recursive: true });
  const { slug } = await signedInOwner(page, { name: "Omar Phone", workspace: "Omar Tea" });
  await page.setViewportSize(WIDTHS[1]);
  await page.goto(`/w/${slug}`);

  const nav = page.getByRole("navigation", { name: "Workspace" });
  const toggle = page.locator("summary", { hasText: "Menu" });
  await expect(toggle).toHaveAttribute("aria-expanded", "false");
  await expect(nav).toBeHidden();

  // Keyboard: focus the button, open it with Enter, and every group is there.
  await toggle.focus();
  await page.keyboard.press("Enter");
  await expect(toggle).toHaveAttribute("aria-expanded", "true");
  await expect(nav).toBeVisible();
  for (const group of ["Audience", "Messaging", "Insights", "Settings"]) {
    await expect(nav.getByRole("heading", { name: group })).toBeVisible();
  }
  await page.screenshot({ path: `${DIR}/menu-open-390.png`, fullPage: true });
  const overflow = await horizontalOverflow(page);
  expect(overflow.scrollWidth).toBeLessThanOrEqual(overflow.width);

  // Each page is in the menu once, and choosing one folds the menu again.
  const links = await nav.getByRole("link").allTextContents();
  expect(new Set(links).size).toBe(links.length);
  await nav.getByRole("link", { name: "Campaigns" }).click();
  await expect(page.getByRole("heading", { level: 1, name: "Campaigns" })).toBeVisible();
  await expect(nav).toBeHidden();
  await expect(toggle).toHaveAttribute("aria-expanded", "false");

  // Escape folds it too.
  await toggle.click();
  await expect(nav).toBeVisible();
  await page.keyboard.press("Escape");
  await expect(nav).toBeHidden();
  await expect(toggle).toBeFocused();

  // On a laptop the menu is simply there, with the current page marked.
  await page.setViewportSize(WIDTHS[0]);
  await expect(nav).toBeVisible();
  await expect(toggle).toBeHidden();
  await expect(nav.getByRole("link", { name: "Campaigns" })).toHaveAttribute(
    "aria-current",
    "page",
  );
});

test("recovery codes can be copied and saved as a file", async ({ page, context }) => {
  test.setTimeout(120_000);
  await context.grantPermissions(["clipboard-read", "clipboard-write"]);
  await signedInOwner(page, { name: "Ravi Codes", workspace: "Ravi Bakes" });
  await page.goto("/account/security/mfa");
  const secret = (await page.getByLabel("Set-up key").textContent())!.trim();
  await page.getByLabel("Code from the app").fill(authenticator.generate(secret));
  await page.getByRole("button", { name: "Turn on two-factor authentication" }).click();
  await expect(page.getByRole("heading", { name: "Save your recovery codes" })).toBeVisible();
  const codes = (
    await page.getByRole("list", { name: "Recovery codes" }).getByRole("listitem").allTextContents()
  ).map((c) => c.trim());
  expect(codes).toHaveLength(10);

  await page.getByRole("button", { name: "Copy codes" }).click();
  await expect(page.getByRole("status").filter({ hasText: "Copied." })).toBeVisible();
  expect(await page.evaluate(() => navigator.clipboard.readText())).toBe(codes.join("\n"));

  const [download] = await Promise.all([
    page.waitForEvent("download"),
    page.getByRole("link", { name: "Download (.txt)" }).click(),
  ]);
  expect(download.suggestedFilename()).toBe("pleisys-engage-recovery-codes.txt");
  const text = readFileSync((await download.path())!, "utf8");
  for (const code of codes) expect(text).toContain(code);
});

test("sign-up: leaving a field does not move the boxes under the pointer", async ({ page }) => {
  await page.setViewportSize(WIDTHS[1]);
  await arriveFromOwnAddress(page);
  await page.goto("/signup");
  await page.getByLabel("Your name").fill("Sana");
  await page.getByLabel("Work email").fill("sana@example.com");
  // Too short a password, then straight to the age box with the mouse: one click ticks it.
  await page.getByLabel("Password").fill("short");
  await page.getByLabel("I am 18 or older").click();
  await expect(page.getByLabel("I am 18 or older")).toBeChecked();
  // The password is still checked, when the form is sent.
  await page.getByLabel(/I have read and accept the/).check();
  await page.getByRole("button", { name: "Create account" }).click();
  await expect(page.getByText("Use at least 12 characters.")).toBeVisible();
  await page.getByLabel("Password").fill(PASSWORD);
  await expect(page.getByText("Use at least 12 characters.")).toBeHidden();
});

test("every main page fits a laptop and a phone", async ({ page }) => {
  test.setTimeout(300_000);
  mkdirSync(DIR, { recursive: true });

  // Public pages.
  await screen(page, "home", "/");
  await screen(page, "privacy", "/privacy");
  await screen(page, "login", "/login");
  await screen(page, "signup", "/signup");
  await screen(page, "forgot-password", "/forgot-password");
  await screen(page, "dsar", "/dsar");

  await page.setViewportSize(WIDTHS[0]);
  const { slug } = await signedInOwner(page, {
    name: "Lata Layout",
    workspace: "Lata Cafe",
  });
  const w = `/w/${slug}`;

  // Some people in a list, an email template and a sent campaign, so tables have rows.
  await page.goto(`${w}/contacts/import`);
  await page.getByLabel("CSV file").setInputFiles({
    name: "regulars.csv",
    mimeType: "text/csv",
    buffer: Buffer.from(CSV, "utf8"),
  });
  await page.getByRole("button", { name: "Upload and continue" }).click();
  await page.getByLabel("…or a new list named").fill("Regulars");
  await page.getByRole("checkbox", { name: "Email" }).check();
  await page.getByLabel("Where did they give consent?").fill("loyalty card form");
  await page.getByRole("button", { name: "Start import" }).click();
  const summary = page.getByRole("table").filter({ hasText: "Rows read" });
  await expect(summary.getByRole("row", { name: /New contacts/ })).toContainText("5", {
    timeout: 30_000,
  });
  const importPage = new URL(page.url()).pathname;

  await page.goto(`${w}/templates/new`);
  await page.getByRole("link", { name: "Email", exact: true }).click();
  await page.getByRole("textbox", { name: "Name", exact: true }).fill("Weekend offer");
  await page.getByRole("textbox", { name: "Subject", exact: true }).fill("Coffee on us");
  await page.getByLabel("Block 1 heading text").fill("Hello {{ first_name }}");
  await page.getByLabel("Block 2 text").fill("Your weekend coffee is on us. Show this mail.");
  await page.getByRole("button", { name: "Create template" }).click();
  await expect(page.getByRole("heading", { level: 1, name: /Weekend offer/ })).toBeVisible();
  const templatePage = new URL(page.url()).pathname;

  await page.goto(`${w}/campaigns/new`);
  await page.getByLabel("Campaign name").fill("Weekend 1");
  await page.getByRole("radio", { name: "Email" }).check();
  await page.getByRole("button", { name: "Next" }).click();
  await page.getByRole("radio", { name: "List: Regulars" }).check();
  await page.getByRole("button", { name: "Next" }).click();
  await page.getByLabel("Template", { exact: true }).selectOption({ label: "Weekend offer" });
  await page.getByRole("button", { name: "Next" }).click();
  await page.getByRole("radio", { name: "Send now" }).check();
  await page.getByRole("button", { name: "Continue to review" }).click();
  await expect(page.getByRole("heading", { level: 1, name: "Review: Weekend 1" })).toBeVisible();
  await page.getByRole("button", { name: "Send campaign" }).click();
  await expect(page.getByRole("progressbar", { name: "Campaign progress" })).toHaveAttribute(
    "aria-valuenow",
    "100",
    { timeout: 60_000 },
  );
  const campaignPage = new URL(page.url()).pathname;

  await page.goto(`${w}/contacts`);
  await page.getByRole("link", { name: "Anita Desai" }).click();
  const contactPage = new URL(page.url()).pathname;
  await page.goto(`${w}/messages`);
  await page
    .getByRole("link", { name: /anita@example.com/ })
    .first()
    .click();
  const messagePage = new URL(page.url()).pathname;

  // The workspace, group by group as the menu lists them.
  await screen(page, "ws-home", w);
  await screen(page, "contacts", `${w}/contacts`);
  await screen(page, "contact", contactPage);
  await screen(page, "contact-new", `${w}/contacts/new`);
  await screen(page, "contacts-import", `${w}/contacts/import`);
  await screen(page, "contacts-import-done", importPage);
  await screen(page, "contacts-export", `${w}/contacts/export`);
  await screen(page, "contacts-attributes", `${w}/contacts/attributes`);
  await screen(page, "segments", `${w}/segments`);
  await screen(page, "segment-new", `${w}/segments/new`);
  await screen(page, "lists", `${w}/contacts/lists`);
  await screen(page, "suppressions", `${w}/contacts/suppressions`);
  await screen(page, "templates", `${w}/templates`);
  await screen(page, "template", templatePage);
  await screen(page, "template-new", `${w}/templates/new`);
  await screen(page, "campaigns", `${w}/campaigns`);
  await screen(page, "campaign", campaignPage);
  await screen(page, "campaign-report", `${campaignPage}/report`);
  await screen(page, "campaign-new", `${w}/campaigns/new`);
  await screen(page, "messages", `${w}/messages`);
  await screen(page, "message", messagePage);
  await screen(page, "sending", `${w}/settings/sending`);
  await screen(page, "audit", `${w}/audit`);
  await screen(page, "settings", `${w}/settings`);
  await screen(page, "channels", `${w}/settings/channels`);
  await screen(page, "members", `${w}/members`);
  await screen(page, "security", `${w}/security`);
  await screen(page, "api-keys", `${w}/api-keys`);
  await screen(page, "retention", `${w}/settings/retention`);
  await screen(page, "privacy-requests", `${w}/privacy/requests`);

  // Account pages.
  await screen(page, "workspaces", "/workspaces");
  await screen(page, "workspace-new", "/workspaces/new");
  await screen(page, "account", "/account");
  await screen(page, "account-security", "/account/security");
  await screen(page, "account-mfa", "/account/security/mfa");
});
