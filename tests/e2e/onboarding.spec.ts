import { expect, test } from "@playwright/test";
import { signedInOwner } from "./support";

/**
 * Names fill in the fields made from them: the workspace address follows the name until the
 * person edits it, and an attribute's key follows its label the same way.
 */
test("workspace address and attribute key follow the names typed", async ({ page }) => {
  test.setTimeout(60_000);
  const { slug } = await signedInOwner(page, { name: "Devi Owner", workspace: "Devi Cafe" });

  await page.goto("/workspaces/new");
  const name = page.getByLabel("Workspace name");
  const address = page.getByLabel("Workspace address");
  await name.fill("Chai & Co. Café");
  await expect(address).toHaveValue("chai-co-cafe");
  await address.fill("my-chai");
  await name.fill("Chai & Co. Café, Indiranagar");
  await expect(address).toHaveValue("my-chai");

  await page.goto(`/w/${slug}/contacts/attributes`);
  await page.getByLabel("Label").fill("Favourite drink");
  await expect(page.getByLabel("Key")).toHaveValue("favourite_drink");
  await page.getByRole("button", { name: "Add attribute" }).click();
  await expect(page.getByRole("cell", { name: "favourite_drink" })).toBeVisible();
});
