import { expect, test } from "@playwright/test";
import { FAKE_WHATSAPP_DEMO_NUMBER as DEMO } from "../fakes/whatsapp";
import { signedInOwner } from "./support";

/**
 * An owner's first look at delivery, in Chromium, by visible labels and roles: every channel
 * starts in the sandbox; connecting WhatsApp follows the guided setup and checks the connection
 * on save (against the Meta fake): a refused token says so in plain words with Meta's code on a
 * details line, the right one makes the badge "Connected" with the limit in words, and the
 * webhook URL and verify token are there to copy; disconnecting asks first. Then an SMS to a new
 * contact goes to the sandbox, is marked delivered by the dispatcher, and shows exactly what
 * would have been sent.
 */

const CHANNELS = ["Email", "WhatsApp", "SMS", "Telegram"];
const SMS_TEXT = "Hi Meera, your order #7 is ready for pickup.";

test("connect and disconnect WhatsApp, then send an SMS in the sandbox and inspect it", async ({
  page,
}) => {
  test.setTimeout(120_000);
  await signedInOwner(page, { name: "Kiran Owner", workspace: "Kiran Sweets" });
  const nav = page.getByRole("navigation", { name: "Workspace" });

  // Settings → Channels: everything in the sandbox.
  await nav.getByRole("link", { name: "Channels", exact: true }).click();
  await expect(page.getByRole("heading", { level: 1, name: "Channels" })).toBeVisible();
  for (const label of CHANNELS) {
    const card = page.getByRole("region", { name: new RegExp(`^${label} Sandbox$`) });
    await expect(card).toContainText(`${label} runs in the sandbox: nothing leaves Pleisys Engage`);
    await expect(card.getByRole("link", { name: "Sandbox messages" })).toBeVisible();
  }

  // Email offers a choice of provider; the SMTP fields replace the SES ones.
  const email = page.getByRole("region", { name: /^Email/ });
  await expect(email.getByLabel("AWS region")).toBeVisible();
  await email.getByLabel("Email provider").selectOption({ label: "SMTP server" });
  await expect(email.getByLabel("SMTP host")).toBeVisible();
  await expect(email.getByLabel("AWS region")).toHaveCount(0);

  // Connect WhatsApp, guided: where each Meta id is, a suggested verify token, limits in words.
  const whatsapp = page.getByRole("region", { name: /^WhatsApp/ });
  const connect = whatsapp.getByRole("form", { name: "Connect WhatsApp" });
  const guide = connect.getByRole("region", { name: "What you need from Meta" });
  await expect(guide).toContainText("WhatsApp → API Setup");
  await expect(guide).toContainText("System users");
  await expect(connect.getByLabel("Webhook verify token")).toHaveValue(/^[A-Za-z0-9_-]{24}$/);
  await expect(connect.getByLabel("Messaging limit")).toContainText("1,000 customers / 24 h");
  await connect.getByLabel("Phone number ID").fill(DEMO.phoneNumberId);
  await connect.getByLabel("WhatsApp Business Account ID").fill(DEMO.wabaId);
  await connect.getByLabel("Access token").fill("EAAG-e2e-expired-token-51ab");
  await connect.getByLabel("App secret").fill("e2e-app-secret-77cd");
  await connect.getByLabel("Webhook verify token").fill("e2e-verify-token-0ef1");
  await expect(connect.getByLabel("Access token")).toHaveAttribute("type", "password");
  await connect.getByRole("button", { name: "Connect WhatsApp" }).click();

  // Meta refuses the token: stored, but the badge says the check failed, and why.
  await expect(page.getByText("WhatsApp saved with WhatsApp Cloud API (Meta).")).toBeVisible();
  const failed = page.getByRole("region", { name: "WhatsApp Check failed" });
  await expect(failed).toContainText("The check failed at: Access token and phone number ID");
  await expect(failed).toContainText("Meta no longer accepts the access token");
  await expect(failed).toContainText("Details: WhatsApp 190");
  await expect(failed).toContainText("••••51ab");
  await expect(failed).not.toContainText("EAAG-e2e-expired-token-51ab");

  // The right token: the check passes on save.
  await failed.getByRole("link", { name: "Edit WhatsApp" }).click();
  const edit = whatsapp.getByRole("form", { name: "Edit WhatsApp" });
  await edit.getByLabel("Access token").fill(DEMO.accessToken);
  await edit.getByLabel("App secret").fill("e2e-app-secret-77cd");
  await edit.getByRole("button", { name: "Save changes" }).click();
  const connected = page.getByRole("region", { name: "WhatsApp Connected" });
  await expect(connected).toContainText("The connection works");
  await expect(connected).toContainText(
    "+91 98765 43210 (Pleisys Demo), messaging limit 1,000 customers / 24 h, quality high",
  );
  const webhook = connected.getByLabel("WhatsApp webhook URL");
  await expect(webhook).toHaveValue(
    /^http:\/\/127\.0\.0\.1:\d+\/webhooks\/whatsapp\/int_[a-z0-9]{16}$/,
  );
  await expect(connected.getByRole("button", { name: "Copy WhatsApp webhook URL" })).toBeVisible();
  await expect(connected.getByLabel("Webhook verify token")).toHaveValue("e2e-verify-token-0ef1");
  await expect(connected.getByRole("button", { name: "Copy Webhook verify token" })).toBeVisible();
  await expect(
    connected.getByRole("button", { name: "Test connection of WhatsApp" }),
  ).toBeVisible();
  // The other channels stay in the sandbox.
  await expect(page.getByRole("region", { name: "SMS Sandbox" })).toBeVisible();

  // Disconnect, after confirming.
  await connected.getByRole("link", { name: "Disconnect… WhatsApp" }).click();
  await expect(page.getByRole("heading", { name: "Disconnect WhatsApp?" })).toBeVisible();
  await page.getByRole("button", { name: "Disconnect WhatsApp" }).click();
  await expect(page.getByText("WhatsApp disconnected.")).toBeVisible();
  await expect(page.getByRole("region", { name: "WhatsApp Sandbox" })).toBeVisible();

  // A contact with a phone number, made by hand.
  await nav.getByRole("link", { name: "Contacts" }).click();
  await page.getByRole("link", { name: "New contact" }).click();
  await page.getByLabel("Name").fill("Meera Customer");
  await page.getByLabel("Phone number").fill("98765 43210");
  await page.getByRole("button", { name: "Create contact" }).click();
  await expect(page.getByRole("heading", { level: 1, name: "Meera Customer" })).toBeVisible();

  // Send an SMS: SMS runs in the sandbox.
  const send = page.getByRole("form", { name: "Send a message" });
  await expect(send.getByLabel("Channel", { exact: true })).toBeVisible();
  await send.getByLabel("Channel", { exact: true }).selectOption({ label: "SMS (sandbox)" });
  await expect(send.getByLabel("WhatsApp text")).toBeHidden();
  await send.getByLabel("SMS text").fill(SMS_TEXT);
  await send.getByRole("button", { name: "Send message" }).click();
  await expect(page.getByText("SMS message queued in the sandbox")).toBeVisible();

  // Messages: the SMS, labelled sandbox, delivered by the dispatcher.
  await nav.getByRole("link", { name: "Messages" }).click();
  await expect(page.getByRole("heading", { level: 1, name: "Messages" })).toBeVisible();
  const row = page.getByRole("row").filter({ hasText: SMS_TEXT });
  await expect(row).toContainText("sandbox");
  await expect(async () => {
    await page.reload();
    await expect(row.getByText("Delivered", { exact: true })).toBeVisible({ timeout: 1_000 });
  }).toPass({ timeout: 30_000 });

  // Sandbox only: the same message, under its own heading.
  await page.getByLabel("Sandbox only").check();
  await page.getByRole("button", { name: "Apply" }).click();
  await expect(page.getByRole("heading", { level: 1, name: "Sandbox messages" })).toBeVisible();

  // The message itself: exactly what would have been sent.
  await page
    .getByRole("row")
    .filter({ hasText: SMS_TEXT })
    .getByRole("link", { name: /SMS message to \+919876543210/ })
    .click();
  await expect(
    page.getByRole("heading", { level: 1, name: "SMS message to +919876543210" }),
  ).toBeVisible();
  await expect(page.getByText("Sandbox: not sent to anyone")).toBeVisible();
  await expect(page.locator("pre.message-preview")).toHaveText(SMS_TEXT);
  await expect(page.getByRole("listitem").filter({ hasText: "Delivered" })).toBeVisible();
});
