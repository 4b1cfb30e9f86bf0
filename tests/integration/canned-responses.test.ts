import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { WorkspaceContext } from "~/domain/context";
import { storeAttachment } from "~/domain/inbox/attachments.server";
import { listCannedResponses } from "~/domain/inbox/canned.server";
import type { Browser, TestUser } from "../support/accounts";
import { textOf } from "../support/html";
import type { TestServer } from "../support/server";
import { makeTeam, signInAll, startServer } from "../support/teams";

/** The canned responses page and the attachment route through the real server. */

const PNG = Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a, 0, 0, 0, 13, 73, 72]);
const slug = "canned-pages";
const page = `/w/${slug}/settings/canned-responses`;

let server: TestServer;
let ctx: WorkspaceContext;
let other: WorkspaceContext;
let owner: TestUser;
let browsers: Record<"owner" | "agent" | "viewer" | "stranger", Browser>;

function multipart(browser: Browser, fields: Record<string, string>, files: [string, Buffer][]) {
  const form = new FormData();
  for (const [k, v] of Object.entries(fields)) form.append(k, v);
  for (const [name, bytes] of files) form.append("files", new Blob([new Uint8Array(bytes)]), name);
  return server.fetch(page, {
    method: "POST",
    headers: { cookie: browser.cookie, origin: server.url },
    body: form,
  });
}

beforeAll(async () => {
  const team = await makeTeam({
    owner: "Olivia Owner",
    workspace: { slug, name: "Canned Co", country: "IN" },
    members: {
      agent: { name: "Asha Agent", role: "agent" },
      viewer: { name: "Vic Viewer", role: "viewer" },
    },
  });
  ({ ctx, owner } = team);
  const outsider = await makeTeam({
    owner: "Sam Stranger",
    workspace: { slug: "canned-other", name: "Other Co", country: "IN" },
  });
  other = outsider.ctx;
  server = await startServer();
  browsers = await signInAll(server, {
    owner,
    agent: team.members.agent,
    viewer: team.members.viewer,
    stranger: outsider.owner,
  });
});

afterAll(async () => {
  await server?.stop();
});

describe("canned responses page", () => {
  it("shows the empty state", async () => {
    const res = await browsers.owner.get(page);
    expect(res.status).toBe(200);
    expect(await textOf(res)).toContain("No canned responses yet");
  });

  it("creates one with an attachment, listed for agents, who cannot edit", async () => {
    const res = await multipart(
      browsers.owner,
      {
        intent: "save",
        shortcut: "welcome",
        title: "Welcome",
        body: "Hi {{ contact.first_name }}",
      },
      [["map.png", PNG]],
    );
    expect(res.status).toBe(302);
    const [saved] = listCannedResponses(ctx);
    expect(saved?.attachments.map((a) => a.filename)).toEqual(["map.png"]);
    const listed = await browsers.agent.get(page);
    const html = await listed.clone().text();
    expect(await textOf(listed)).toContain("/welcome");
    expect(html).toContain(`/w/${slug}/inbox/attachments/${saved!.attachments[0]!.id}`);
    expect(html).not.toContain("Delete…");
    const denied = await multipart(
      browsers.agent,
      { intent: "save", shortcut: "nope", title: "No", body: "No" },
      [],
    );
    expect(denied.status).toBe(403);
  });

  it("refuses a lying extension and a duplicate shortcut with a 4xx and a message", async () => {
    const lying = await multipart(
      browsers.owner,
      { intent: "save", shortcut: "invoice", title: "Invoice", body: "Attached." },
      [["invoice.pdf", PNG]],
    );
    expect(lying.status).toBe(400);
    expect(await textOf(lying)).toContain("is named .pdf, but its contents are a PNG image");
    const dup = await multipart(
      browsers.owner,
      { intent: "save", shortcut: "welcome", title: "Again", body: "Again" },
      [],
    );
    expect(dup.status).toBe(400);
    expect(await textOf(dup)).toContain("The shortcut /welcome is already used");
    expect(listCannedResponses(ctx).map((c) => c.shortcut)).toEqual(["welcome"]);
  });

  it("deletes after confirmation", async () => {
    const [saved] = listCannedResponses(ctx);
    const confirm = await browsers.owner.get(`${page}?delete=${saved!.id}`);
    expect(await textOf(confirm)).toContain("Delete /welcome?");
    const res = await multipart(browsers.owner, { intent: "delete", id: String(saved!.id) }, []);
    expect(res.status).toBe(302);
    expect(listCannedResponses(ctx)).toEqual([]);
  });
});

describe("attachment route", () => {
  it("serves members with the sniffed type, nosniff, inline images, private cache", async () => {
    const row = storeAttachment(ctx, { filename: "logo.png", bytes: PNG, createdBy: owner.id });
    const res = await browsers.agent.get(`/w/${slug}/inbox/attachments/${row.id}`);
    expect(res.status).toBe(200);
    expect(res.headers.get("content-type")).toBe("image/png");
    expect(res.headers.get("x-content-type-options")).toBe("nosniff");
    expect(res.headers.get("content-disposition")).toMatch(/^inline; filename="logo.png"/);
    expect(res.headers.get("cache-control")).toMatch(/^private/);
    expect(Buffer.from(await res.arrayBuffer())).toEqual(PNG);
  });

  it("is a 404 for another workspace's id and for non-members", async () => {
    const theirs = storeAttachment(other, { filename: "x.png", bytes: PNG, createdBy: null });
    const res = await browsers.owner.get(`/w/${slug}/inbox/attachments/${theirs.id}`);
    expect(res.status).toBe(404);
    const mine = storeAttachment(ctx, { filename: "y.png", bytes: PNG, createdBy: null });
    const stranger = await browsers.stranger.get(`/w/${slug}/inbox/attachments/${mine.id}`);
    expect(stranger.status).toBe(404);
  });
});
