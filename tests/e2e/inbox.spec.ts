import { mkdirSync } from "node:fs";
import { expect, test, type Browser, type BrowserContext, type Page } from "@playwright/test";
import { arriveFromOwnAddress, signedInMember, signedInOwner } from "./support";

/**
 * The shared inbox as a team uses it: a customer (played with "Try the inbox", the WhatsApp
 * sandbox) writes in while an agent has the inbox open; agents answer with a canned response,
 * see each other's soft lock, and send an edited AI draft. Screenshots of the list and a
 * conversation at a laptop and a phone width land in test-results/screens/.
 */

test.describe.configure({ mode: "serial" });

const DIR = "test-results/screens";
const CUSTOMER = { phone: "98765 43210", name: "Asha Rao" };

let contexts: BrowserContext[] = [];
let owner: Page;
let ava: Page;
let ben: Page;
let slug: string;
let conversationUrl: string;

async function person(browser: Browser): Promise<Page> {
  const context = await browser.newContext({ viewport: { width: 1366, height: 768 } });
  contexts.push(context);
  return context.newPage();
}

/** The owner plays the customer with the sandbox form on the inbox list page. */
async function customerWrites(message: string) {
  await owner.goto(`/w/${slug}/inbox`);
  const form = owner.getByRole("form", { name: "Try the inbox" });
  await form.getByLabel("Customer phone").fill(CUSTOMER.phone);
  await form.getByLabel("Customer name").fill(CUSTOMER.name);
  await form.getByLabel("Message").fill(message);
  await form.getByRole("button", { name: "Simulate customer message" }).click();
  await expect(owner.getByText("Simulated customer message received.")).toBeVisible();
}

const thread = (page: Page) => page.getByRole("region", { name: "Messages" });

async function send(page: Page) {
  await page.getByRole("button", { name: "Send", exact: true }).click();
}

test.beforeAll(async ({ browser }) => {
  // Three accounts made with the operator CLI (password hashing included).
  test.setTimeout(120_000);
  owner = await person(browser);
  ({ slug } = await signedInOwner(owner, { name: "Olivia Owner", workspace: "Asha Cafe Inbox" }));
  ava = await person(browser);
  await signedInMember(ava, { name: "Ava Agent", slug, role: "agent" });
  ben = await person(browser);
  await signedInMember(ben, { name: "Ben Agent", slug, role: "agent" });
});

test.afterAll(async () => {
  for (const context of contexts) await context.close();
  contexts = [];
});

test("a customer's message arrives live in the open inbox and conversation", async () => {
  test.setTimeout(60_000);
  await ava.goto(`/w/${slug}/inbox`);
  await expect(ava.getByText("No conversations here")).toBeVisible();
  // The sandbox says plainly that the message is simulated.
  await expect(ava.getByRole("form", { name: "Try the inbox" })).toBeVisible();
  await expect(ava.getByText(/The message is simulated/)).toBeVisible();

  await customerWrites("Is the cafe open on Sunday?");
  const list = ava.getByRole("list", { name: "Conversations" });
  await expect(list.getByText(CUSTOMER.name)).toBeVisible({ timeout: 10_000 });
  await expect(list.getByText("Is the cafe open on Sunday?")).toBeVisible();

  await list.getByRole("link", { name: new RegExp(CUSTOMER.name) }).click();
  await expect(thread(ava).getByText("Is the cafe open on Sunday?")).toBeVisible();
  conversationUrl = new URL(ava.url()).pathname;

  await customerWrites("And do you take table bookings?");
  await expect(thread(ava).getByText("And do you take table bookings?")).toBeVisible({
    timeout: 10_000,
  });
});

test("an agent answers with a canned response, filled in for the contact", async () => {
  test.setTimeout(60_000);
  await owner.goto(`/w/${slug}/settings/canned-responses`);
  await owner.getByRole("link", { name: "New canned response" }).click();
  await owner.getByLabel("Shortcut").fill("hours");
  await owner.getByLabel("Title").fill("Opening hours");
  await owner.getByLabel("Text").fill("Hi {{contact.first_name}}, we are open 9am to 9pm daily.");
  await owner.getByRole("button", { name: "Add canned response" }).click();
  await expect(owner.getByText("/hours").first()).toBeVisible();

  await ava.goto(conversationUrl);
  const reply = ava.getByLabel("Reply");
  await reply.click();
  await reply.pressSequentially("/ho");
  const options = ava.getByRole("listbox", { name: "Canned responses" });
  await options.getByRole("option", { name: "/hours — Opening hours" }).click();
  await expect(reply).toHaveValue(/Hi Asha, we are open 9am to 9pm daily\./);
  await send(ava);
  await expect(thread(ava).getByText("Hi Asha, we are open 9am to 9pm daily.")).toBeVisible();
  await expect(reply).toHaveValue("");
});

test("another agent sees who is replying and must choose to send anyway", async () => {
  test.setTimeout(60_000);
  await ava.goto(conversationUrl);
  const avaReply = ava.getByLabel("Reply");
  await avaReply.click();
  await avaReply.pressSequentially("Let me check the booking sheet", { delay: 20 });

  await ben.goto(conversationUrl);
  await expect(ben.getByText("Ava Agent is replying")).toBeVisible({ timeout: 15_000 });
  await ben.getByLabel("Reply").fill("Yes, we take bookings for up to 8 people.");
  await send(ben);
  const anyway = ben.getByRole("button", { name: "Send anyway" });
  await expect(anyway).toBeVisible();
  await anyway.click();
  await expect(thread(ben).getByText("Yes, we take bookings for up to 8 people.")).toBeVisible();
  // Ava's words are hers until she sends them.
  await expect(avaReply).toHaveValue("Let me check the booking sheet");
  // Ben leaves the conversation, so his lock does not stand in Ava's way next.
  await ben.goto(`/w/${slug}/inbox`);
});

test("an AI draft is used, edited and sent", async () => {
  test.setTimeout(60_000);
  await owner.goto(`/w/${slug}/settings/knowledge`);
  await owner.getByLabel("Title").fill("Sunday hours");
  await owner.getByLabel("Text").fill("On Sundays the cafe opens at 10am and closes at 8pm.");
  await owner.getByRole("button", { name: "Add snippet" }).click();
  await expect(owner.getByRole("heading", { level: 3, name: "Sunday hours" })).toBeVisible();

  await ava.goto(conversationUrl);
  await ava.getByRole("button", { name: "Suggest a reply" }).click();
  const draft = ava.getByRole("region", { name: "AI draft" });
  // The Anthropic fake's scripted answer.
  await expect(draft).toContainText("20% off", { timeout: 20_000 });
  await draft.getByRole("button", { name: "Use this draft" }).click();
  const reply = ava.getByLabel("Reply");
  await expect(reply).toHaveValue(/20% off/);
  await reply.fill("Hi Asha, on Sundays we open at 10am and close at 8pm.");
  await send(ava);
  await expect(
    thread(ava).getByText("Hi Asha, on Sundays we open at 10am and close at 8pm."),
  ).toBeVisible();
});

test("screenshots of the inbox list and a conversation at a laptop and a phone width", async ({
  browser,
}) => {
  test.setTimeout(60_000);
  mkdirSync(DIR, { recursive: true });
  for (const size of [
    { width: 1366, height: 768 },
    { width: 390, height: 844 },
  ]) {
    // A fresh page per width: the owner's session, seen on this screen.
    const context = await browser.newContext({
      viewport: size,
      storageState: await owner.context().storageState(),
    });
    contexts.push(context);
    const page = await context.newPage();
    await arriveFromOwnAddress(page);
    for (const [name, path] of [
      ["inbox-list", `/w/${slug}/inbox`],
      ["inbox-conversation", conversationUrl],
    ] as const) {
      await page.goto(path);
      await expect(page.locator("h1").first()).toBeVisible();
      await page.screenshot({ path: `${DIR}/${name}-${size.width}.png`, fullPage: true });
      const widths = await page.evaluate(() => ({
        scroll: document.documentElement.scrollWidth,
        window: window.innerWidth,
      }));
      expect.soft(widths.scroll, `${name} at ${size.width}px`).toBeLessThanOrEqual(widths.window);
    }
  }
});
