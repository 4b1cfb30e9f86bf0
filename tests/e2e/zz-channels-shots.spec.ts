import { expect, test } from "@playwright/test";
import { FAKE_WHATSAPP_DEMO_NUMBER as DEMO } from "../fakes/whatsapp";
import { signUpWithWorkspace } from "./support";

async function shoot(page: import("@playwright/test").Page, name: string) {
  for (const [w, h, tag] of [
    [1366, 768, "desktop"],
    [390, 844, "phone"],
  ] as const) {
    await page.setViewportSize({ width: w, height: h });
    await page.waitForTimeout(300);
    await page.screenshot({ path: `/tmp/ch/shots/${name}-${tag}-top.png` });
    await page
      .getByRole("region", { name: /^WhatsApp/ })
      .screenshot({ path: `/tmp/ch/shots/${name}-${tag}-card.png` });
    const overflow = await page.evaluate(
      () => document.documentElement.scrollWidth - document.documentElement.clientWidth,
    );
    console.log(name, tag, "overflow", overflow);
  }
  await page.setViewportSize({ width: 1366, height: 768 });
}

test("shots", async ({ page }) => {
  test.setTimeout(180_000);
  const { slug } = await signUpWithWorkspace(page, { name: "Shot Owner", workspace: "Chai Corner" });
  await page.goto(`/w/${slug}/settings/channels`);
  const gotIt = page.getByRole("button", { name: /Got it/ });
  if (await gotIt.isVisible()) await gotIt.click();
  await shoot(page, "1-sandbox");
  const whatsapp = page.getByRole("region", { name: /^WhatsApp/ });
  const connect = whatsapp.getByRole("form", { name: "Connect WhatsApp" });
  await connect.getByLabel("Phone number ID").fill(DEMO.phoneNumberId);
  await connect.getByLabel("WhatsApp Business Account ID").fill(DEMO.wabaId);
  await connect.getByLabel("Access token").fill("EAAG-expired-token-51ab");
  await connect.getByLabel("App secret").fill("app-secret-77cd");
  await connect.getByRole("button", { name: "Connect WhatsApp" }).click();
  await expect(page.getByRole("region", { name: "WhatsApp Check failed" })).toBeVisible();
  await whatsapp.scrollIntoViewIfNeeded();
  await shoot(page, "2-failed");
  await page.getByRole("link", { name: "Edit WhatsApp" }).click();
  const edit = whatsapp.getByRole("form", { name: "Edit WhatsApp" });
  await edit.getByLabel("Access token").fill(DEMO.accessToken);
  await edit.getByLabel("App secret").fill("app-secret-77cd");
  await edit.getByRole("button", { name: "Save changes" }).click();
  await expect(page.getByRole("region", { name: "WhatsApp Connected" })).toBeVisible();
  await shoot(page, "3-connected");
});
