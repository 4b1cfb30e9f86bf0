import { expect, test } from "@playwright/test";
import { signedInOwner } from "./support";

/**
 * A marketer's first import, in Chromium: from the home checklist, upload a messy CSV, check
 * the guessed columns, start it, watch it finish (a row with an unusable phone kept without
 * it), find the people in Contacts, see the checklist tick, then build a segment and count it.
 */

const CSV = [
  "\uFEFFFull Name;E-mail;Mobile No.;City",
  "Asha Rao;ASHA@Example.com;98765 43210;Mumbai",
  "अनन्या शर्मा;ananya@example.com;0091-98765-43211;Pune",
  '"Rahul ""Ronnie"" Mehta";rahul@example.com;+91 (987) 654-3212;Mumbai',
  "Bad Phone;bad@example.com;12345;Delhi",
  "Asha Rao;asha@example.com;98765 43210;Mumbai",
].join("\r\n");

test("upload, map, watch progress, see contacts, and count a segment", async ({ page }) => {
  test.setTimeout(90_000);
  const { slug } = await signedInOwner(page, {
    name: "Meera Marketer",
    workspace: "Meera Foods",
  });

  // The home checklist starts the path at the import page, which offers a sample file.
  await expect(page.getByText("0 of 5 done")).toBeVisible();
  await page.getByRole("link", { name: "Import contacts" }).click();
  await expect(page.getByRole("heading", { level: 1, name: "Import contacts" })).toBeVisible();
  const sample = await page.request.get(
    (await page.getByRole("link", { name: "Download a sample CSV" }).getAttribute("href"))!,
  );
  expect(sample.status()).toBe(200);
  expect((await sample.text()).split("\r\n")[0]).toBe("Name,Phone,Email,City,Tags");

  await page.getByLabel("CSV file").setInputFiles({
    name: "customers.csv",
    mimeType: "text/csv",
    buffer: Buffer.from(CSV, "utf8"),
  });
  await page.getByRole("button", { name: "Upload and continue" }).click();

  // Step 2: the columns are guessed from their headers.
  await expect(page.getByRole("heading", { name: "2. Match the columns" })).toBeVisible();
  await expect(page.getByLabel("Full Name")).toHaveValue("name");
  await expect(page.getByLabel("E-mail")).toHaveValue("email");
  await expect(page.getByLabel("Mobile No.")).toHaveValue("phone");
  await expect(page.getByRole("cell", { name: "अनन्या शर्मा" })).toBeVisible();

  await page.getByRole("textbox", { name: "Tags" }).fill("csv-import");
  await page.getByRole("button", { name: "Start import" }).click();

  // Progress, then the summary with exact counts.
  await expect(
    page.getByRole("cell", { name: "Rows read" }).or(page.locator("progress")),
  ).toBeVisible();
  const summary = page.getByRole("table").filter({ hasText: "Rows read" });
  await expect(summary).toBeVisible({ timeout: 30_000 });
  await expect(summary.getByRole("row", { name: /Rows read/ })).toContainText("5");
  await expect(summary.getByRole("row", { name: /New contacts/ })).toContainText("4");
  await expect(summary.getByRole("row", { name: /Rejected rows/ })).toContainText("0");
  await expect(summary.getByRole("row", { name: /Imported with warnings/ })).toContainText("1");
  const leftOut = page.getByRole("table").filter({ hasText: "Column left out" });
  await expect(leftOut.getByRole("row", { name: /Mobile No\./ })).toContainText("12345");

  // The people are in Contacts, normalised.
  await page.getByRole("link", { name: "Go to contacts" }).click();
  await expect(page.getByRole("link", { name: "Asha Rao" })).toBeVisible();
  await expect(page.getByText("asha@example.com")).toBeVisible();
  await expect(page.getByText("+919876543210")).toBeVisible();
  await expect(page.getByRole("link", { name: "अनन्या शर्मा" })).toBeVisible();
  await expect(page.getByRole("link", { name: "Bad Phone" })).toBeVisible();

  await page.goto(`/w/${slug}`);
  await expect(page.getByText("1 of 5 done")).toBeVisible();

  // A segment over them: the live count follows the conditions.
  await page.goto(`/w/${slug}/segments/new`);
  const count = page.getByTestId("segment-count");
  await expect(count).toHaveText("4 contacts match");
  await page.getByRole("button", { name: "Add condition" }).click();
  await page.getByLabel("Filter on").selectOption("email");
  await expect(count).toHaveText("4 contacts match");
  await page.getByLabel("Comparison").selectOption("not_set");
  await expect(count).toHaveText("0 contacts match");
});

test("the sample file's City column becomes a new attribute, shown on the contact", async ({
  page,
}) => {
  test.setTimeout(90_000);
  await signedInOwner(page, { name: "Ravi Cafe", workspace: "Ravi Cafe" });
  await page.getByRole("link", { name: "Import contacts" }).first().click();
  const sample = await page.request.get(
    (await page.getByRole("link", { name: "Download a sample CSV" }).getAttribute("href"))!,
  );
  await page.getByLabel("CSV file").setInputFiles({
    name: "cafe-contacts-sample.csv",
    mimeType: "text/csv",
    buffer: Buffer.from(await sample.body()),
  });
  await page.getByRole("button", { name: "Upload and continue" }).click();
  await expect(page.getByRole("heading", { name: "2. Match the columns" })).toBeVisible();

  // The label and type appear only once "Create attribute…" is chosen; the label starts as the header.
  const label = page.getByLabel("New attribute label").nth(3);
  await expect(label).toBeHidden();
  await page.getByLabel("City", { exact: true }).selectOption("Create attribute…");
  await expect(label).toBeVisible();
  await expect(label).toHaveValue("City");
  await expect(page.getByLabel("Type", { exact: true }).nth(3)).toHaveValue("text");

  // A label that clashes with a built-in field is refused next to the column; nothing started.
  await label.fill("Phone");
  await page.getByRole("button", { name: "Start import" }).click();
  await expect(page.getByText("“Phone” is a built-in contact field.")).toBeVisible();
  await expect(page.getByText("Check the column “City”: the message is under it.")).toBeVisible();
  await expect(page.getByLabel("City", { exact: true })).toHaveValue("new_attribute");
  for (const [width, height] of [
    [1366, 768],
    [390, 844],
  ] as const) {
    await page.setViewportSize({ width, height });
    await label.scrollIntoViewIfNeeded();
    await page.screenshot({ path: `test-results/import-attribute-${width}.png` });
  }
  await page.setViewportSize({ width: 1280, height: 720 });

  await label.fill("City");
  await page.getByRole("button", { name: "Start import" }).click();
  const summary = page.getByRole("table").filter({ hasText: "Rows read" });
  await expect(summary.getByRole("row", { name: /New contacts/ })).toContainText("8", {
    timeout: 30_000,
  });

  await page.getByRole("link", { name: "Go to contacts" }).click();
  await page.getByRole("link", { name: "Priya Nair" }).click();
  const attributes = page.locator(".card").filter({ hasText: "Attributes" });
  await expect(attributes.getByText("City", { exact: true })).toBeVisible();
  await expect(attributes.getByText("Kochi", { exact: true })).toBeVisible();
});
