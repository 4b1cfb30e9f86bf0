import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { getControlDb } from "~/db/control.server";
import { workspaces } from "~/db/schema/control";
import { campaigns, templates } from "~/db/schema/tenant";
import { listAttributeDefinitions } from "~/domain/contacts/attributes.server";
import { createContact } from "~/domain/contacts/contacts.server";
import type { WorkspaceContext } from "~/domain/context";
import type { Workspace } from "~/domain/workspaces/workspaces.server";
import { eq } from "drizzle-orm";
import type { Browser } from "../support/accounts";
import type { TestServer } from "../support/server";
import { textOf } from "../support/html";
import { makeTeam, signInAll, startServer } from "../support/teams";

/**
 * The new workspace's first hour through the real server, as a browser without JavaScript:
 * the address and attribute keys made from names, and the home checklist ticking itself as
 * contacts, a channel (or the sandbox), a template, a campaign and its report appear.
 */

let server: TestServer;
let other: Workspace;
let ctx: WorkspaceContext;
let owner: Browser;
let viewer: Browser;
let outsider: Browser;
const slug = "onboarding-cafe";

beforeAll(async () => {
  const team = await makeTeam({
    owner: "Kiran Owner",
    workspace: { slug, name: "Chai Point Café", country: "IN" },
    members: { viewer: { name: "Vani Viewer", role: "viewer" } },
  });
  ctx = team.ctx;
  const them = await makeTeam({
    owner: "Otto Outsider",
    workspace: { slug: "onboarding-other", name: "Other Café" },
  });
  other = them.workspace;
  server = await startServer();
  ({ owner, viewer, outsider } = await signInAll(server, {
    owner: team.owner,
    viewer: team.members.viewer,
    outsider: them.owner,
  }));
}, 90_000);

afterAll(async () => {
  await server?.stop();
});

describe("workspace address from the name", () => {
  it("is made from the name when the form leaves it empty, with -2 when taken", async () => {
    const fields = { name: "Chai Point Café", slug: "", country: "IN" };
    const form = { ...fields, timezone: "Asia/Kolkata", currency: "INR" };
    const first = await owner.post("/workspaces/new", form);
    expect(first.status).toBe(302);
    expect(first.headers.get("location")).toBe("/w/chai-point-cafe");
    const second = await owner.post("/workspaces/new", form);
    expect(second.headers.get("location")).toBe("/w/chai-point-cafe-2");
    expect(
      getControlDb().select().from(workspaces).where(eq(workspaces.slug, "chai-point-cafe")).get(),
    ).toMatchObject({ name: "Chai Point Café" });
  });

  it("a typed address is kept, and a bad one is refused with a reason", async () => {
    const form = { name: "Anything", country: "IN", timezone: "Asia/Kolkata", currency: "INR" };
    const typed = await owner.post("/workspaces/new", { ...form, slug: "my-own-address" });
    expect(typed.headers.get("location")).toBe("/w/my-own-address");
    const bad = await owner.post("/workspaces/new", { ...form, slug: "-Bad!" });
    expect(bad.status).toBe(400);
    expect(await textOf(bad)).toContain("Use 3–40 lower-case letters");
  });
});

describe("attribute key from the label", () => {
  it("is made from the label when left empty; a label with no letters asks for a key", async () => {
    const page = `/w/${slug}/contacts/attributes`;
    const res = await owner.post(page, {
      intent: "create",
      label: "Favourite drink",
      key: "",
      type: "text",
    });
    expect(res.status).toBe(302);
    expect(listAttributeDefinitions(ctx).map((d) => d.key)).toContain("favourite_drink");
    const none = await owner.post(page, { intent: "create", label: "☕", key: "", type: "text" });
    expect(none.status).toBe(400);
    expect(await textOf(none)).toContain("Enter a key");
  });
});

describe("the home checklist", () => {
  const home = `/w/${slug}`;

  it("starts at 0 of 5, each step linking to its page", async () => {
    const html = await textOf(await owner.get(home));
    expect(html).toContain("Get started");
    expect(html).toContain("0 of 5 done");
    for (const href of [
      `${home}/contacts/import`,
      `${home}/settings/channels`,
      `${home}/templates/new`,
      `${home}/campaigns/new`,
    ]) {
      expect(html).toContain(`href="${href}"`);
    }
    expect(html).toContain("Use the sandbox for now");
  });

  it("ticks contacts, the sandbox, a template, a campaign and an opened report", async () => {
    createContact(ctx, { name: "Asha", phone: "98765 43210" });
    expect(await textOf(await owner.get(home))).toContain("1 of 5 done");

    // Another workspace's members cannot choose for this one, nor see it.
    expect((await outsider.post(`${home}?index`, { intent: "sandbox" })).status).toBe(404);
    // A viewer cannot choose either.
    expect((await viewer.post(`${home}?index`, { intent: "sandbox" })).status).toBe(403);
    expect(await textOf(await owner.get(home))).toContain("1 of 5 done");

    const chose = await owner.post(`${home}?index`, { intent: "sandbox" });
    expect(chose.status).toBe(302);
    const afterSandbox = await textOf(await owner.get(home));
    expect(afterSandbox).toContain("2 of 5 done");
    expect(afterSandbox).toContain("Using the sandbox");

    const now = new Date();
    ctx.db
      .insert(templates)
      .values({
        channel: "sms",
        name: "Welcome",
        status: "approved",
        content: JSON.stringify({ body: "Hi" }),
        createdAt: now,
        updatedAt: now,
      })
      .run();
    const campaign = ctx.db
      .insert(campaigns)
      .values({
        name: "Monsoon chai",
        channel: "sms",
        status: "completed",
        audience: JSON.stringify({ type: "list", id: 1 }),
        variants: JSON.stringify([{ key: "A", templateId: 1 }]),
        schedule: JSON.stringify({ type: "now" }),
        createdAt: now,
        updatedAt: now,
      })
      .returning()
      .get();
    expect(await textOf(await owner.get(home))).toContain("4 of 5 done");

    // Another workspace's report of the same id is not found, and ticks nothing here.
    expect((await outsider.get(`${home}/campaigns/${campaign.id}/report`)).status).toBe(404);
    expect((await outsider.get(`/w/${other.slug}/campaigns/${campaign.id}/report`)).status).toBe(
      404,
    );
    expect(await textOf(await owner.get(home))).toContain("4 of 5 done");

    expect((await owner.get(`${home}/campaigns/${campaign.id}/report`)).status).toBe(200);
    const done = await textOf(await owner.get(home));
    expect(done).not.toContain("Get started");
    expect(done).toContain("Recent campaigns");
    expect(done).toContain("Monsoon chai");
  });
});
