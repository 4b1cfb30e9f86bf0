import { expect, test, type Page } from "@playwright/test";

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
export async function arriveFromOwnAddress(page: Page): Promise<string> {
  const octet = () => Math.floor(Math.random() * 254) + 1;
  const address = `198.18.${octet()}.${octet()}`;
  await page.setExtraHTTPHeaders({ "X-Forwarded-For": address });
  return address;
}

/**
 * An operator command (`npm run engage -- ...`) run in this worker against the server's data
 * dir, as an operator would beside the running server; throws with its error line.
 */
async function engage(...args: string[]): Promise<void> {
  // Settings are read once per process, on the first command: the server's data dir and its
  // secrets (made there at its start), logs off stdout.
  process.env.DATA_DIR = process.env.E2E_DATA_DIR;
  process.env.NODE_ENV = "test";
  process.env.LOG_DESTINATION = "stderr";
  process.env.LOG_LEVEL ??= "warn";
  const { runEngage } = await import("../../scripts/cli/main");
  const errors: string[] = [];
  const code = await runEngage(args, {
    print: () => {},
    text: () => {},
    error: (line) => errors.push(line),
  });
  // Closed as the real command closes them at exit: the server then has the files to itself.
  (await import("~/db/tenants.server")).closeAllTenantDbs();
  (await import("~/db/control.server")).closeControlDb();
  if (code !== 0) throw new Error(`engage ${args.slice(0, 2).join(" ")}: ${errors.join("; ")}`);
}

/**
 * A verified owner of a new workspace, signed in on this page: made by the operator CLI and
 * signed in with one form post, so specs about other pages skip the sign-up screens (the
 * accounts spec walks through those). Returns the owner's email and the workspace's slug.
 */
export async function signedInOwner(
  page: Page,
  { name, workspace }: { name: string; workspace: string },
): Promise<{ email: string; slug: string }> {
  const address = await arriveFromOwnAddress(page);
  const unique = `${Date.now().toString(36)}${Math.floor(Math.random() * 1296).toString(36)}`;
  const email = `${name.split(" ")[0]!.toLowerCase()}-${unique}@example.com`;
  const slug = `${workspace.toLowerCase().replace(/[^a-z0-9]+/g, "-")}-${unique}`;
  await engage("user", "create", "--email", email, "--password", PASSWORD, "--name", name);
  await engage("workspace", "create", "--owner", email, "--name", workspace, "--slug", slug);
  const signedIn = await page.request.post("/login", {
    form: { email, password: PASSWORD },
    headers: { origin: test.info().project.use.baseURL!, "x-forwarded-for": address },
    maxRedirects: 0,
  });
  expect(signedIn.status(), await signedIn.text()).toBe(302);
  await page.goto(`/w/${slug}`);
  return { email, slug };
}

/**
 * A member with `role` in the workspace `slug`, signed in on this page: an account made and
 * added by the operator CLI (the invitation spec walks through inviting people), so specs about
 * several people working together start at once. Returns the member's email.
 */
export async function signedInMember(
  page: Page,
  { name, slug, role }: { name: string; slug: string; role: string },
): Promise<string> {
  const address = await arriveFromOwnAddress(page);
  const unique = `${Date.now().toString(36)}${Math.floor(Math.random() * 1296).toString(36)}`;
  const email = `${name.split(" ")[0]!.toLowerCase()}-${unique}@example.com`;
  await engage("user", "create", "--email", email, "--password", PASSWORD, "--name", name);
  await engage("member", "add", "--workspace", slug, "--email", email, "--role", role);
  const signedIn = await page.request.post("/login", {
    form: { email, password: PASSWORD },
    headers: { origin: test.info().project.use.baseURL!, "x-forwarded-for": address },
    maxRedirects: 0,
  });
  expect(signedIn.status(), await signedIn.text()).toBe(302);
  return email;
}
