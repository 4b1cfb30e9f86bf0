import { randomBytes } from "node:crypto";
import { existsSync, mkdtempSync, readdirSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { eq } from "drizzle-orm";
import { contacts } from "~/db/schema/tenant";
import { listAttributeDefinitions } from "~/domain/contacts/attributes.server";
import { listGroups } from "~/domain/contacts/groups.server";
import { getImport, isImportId, type ImportSummary } from "~/domain/contacts/import/imports.server";
import { listImports } from "~/domain/contacts/import/supervisor.server";
import { openWorkspaceContext } from "~/domain/workspaces/access.server";
import type { Workspace } from "~/domain/workspaces/workspaces.server";
import { createWorkspaceFor, signedIn, type Browser, type TestUser } from "../support/accounts";
import { runCli, type TestServer } from "../support/server";
import { textOf } from "../support/html";
import { makeTeam, startServer } from "../support/teams";

/**
 * The CSV import through the real server as a browser without JavaScript uses it: a multipart
 * upload, the mapping form, the progress page until the import is done, the summary and the
 * rejected rows as CSV. The test process shares DATA_DIR with the server and reads the stored
 * import through the domain to know when it is done. Then the CLI, on the same data.
 */

const UPLOAD_LIMIT = 8192;

let server: TestServer;
let owner: TestUser;
let viewer: TestUser;
let outsider: TestUser;
let workspace: Workspace;
let browser: Browser;

/** A multipart/form-data body with a Content-Length, as browsers send forms with files. */
function multipart(
  file: { name: string; content: Buffer | string },
  fields: Record<string, string> = {},
) {
  const boundary = `----engage${randomBytes(8).toString("hex")}`;
  const parts: Buffer[] = [];
  for (const [name, value] of Object.entries(fields)) {
    parts.push(
      Buffer.from(
        `--${boundary}\r\nContent-Disposition: form-data; name="${name}"\r\n\r\n${value}\r\n`,
      ),
    );
  }
  parts.push(
    Buffer.from(
      `--${boundary}\r\nContent-Disposition: form-data; name="file"; filename="${file.name}"\r\nContent-Type: text/csv\r\n\r\n`,
    ),
    Buffer.isBuffer(file.content) ? file.content : Buffer.from(file.content, "utf8"),
    Buffer.from(`\r\n--${boundary}--\r\n`),
  );
  return { body: Buffer.concat(parts), type: `multipart/form-data; boundary=${boundary}` };
}

function uploadAs(who: Browser, slug: string, file: { name: string; content: Buffer | string }) {
  const { body, type } = multipart(file);
  return server.fetch(`/w/${slug}/contacts/import`, {
    method: "POST",
    headers: { cookie: who.cookie, origin: server.url, "content-type": type },
    body,
  });
}

function importIdFrom(res: Response): string {
  const location = res.headers.get("location") ?? "";
  const id = /\/contacts\/import\/([^/?]+)$/.exec(location)?.[1];
  if (!isImportId(id)) throw new Error(`no import in redirect: ${res.status} ${location}`);
  return id;
}

function stored(id: string): ImportSummary {
  const ctx = openWorkspaceContext(workspace.id, { type: "system", id: "test" }, {});
  return getImport(ctx, id);
}

async function untilFinished(id: string): Promise<ImportSummary> {
  const deadline = Date.now() + 30_000;
  for (;;) {
    // Through the page, as a browser without JavaScript refreshes it.
    const page = await browser.get(`/w/${workspace.slug}/contacts/import/${id}`);
    expect(page.status).toBe(200);
    const summary = stored(id);
    if (["completed", "cancelled", "failed"].includes(summary.status)) return summary;
    if (Date.now() > deadline) throw new Error(`import ${id} still ${summary.status}`);
    await new Promise((r) => setTimeout(r, 150));
  }
}

const MESSY =
  "\uFEFFFull name;E-mail;=Mobile;City\r\n" +
  "अनन्या शर्मा;Ananya@Example.COM;98765 43210;Mumbai\r\n" +
  '"Rohan\nKumar";rohan@example.com;+91 (987) 654-3211;Pune\r\n' +
  "Bad Phone;bad@example.com;12345;Delhi\r\n" +
  "अनन्या शर्मा;ananya@example.com;+919876543210;Mumbai\r\n" +
  "Nobody;;;\r\n";

beforeAll(async () => {
  server = await startServer({
    env: { IMPORT_MAX_BYTES: String(UPLOAD_LIMIT) },
  });
  const team = await makeTeam({
    owner: "Owner",
    members: { viewer: { name: "Viewer", role: "viewer" } },
  });
  ({ owner, workspace } = team);
  viewer = team.members.viewer;
  outsider = (await makeTeam({ owner: "Outsider" })).owner;
  browser = await signedIn(server, owner);
});

afterAll(async () => {
  await server?.stop();
});

describe("import through the dashboard", () => {
  let id: string;

  it("uploads, guesses the mapping, imports, and shows the summary", async () => {
    const form = await browser.get(`/w/${workspace.slug}/contacts/import`);
    expect(form.status).toBe(200);
    const formHtml = await form.text();
    expect(formHtml).toMatch(/enctype="multipart\/form-data"/i);
    expect(formHtml.replace(/<!-- -->/g, "")).toContain("Up to 8 KB.");
    expect(formHtml).toContain('type="file"');

    const uploaded = await uploadAs(browser, workspace.slug, { name: "messy.csv", content: MESSY });
    expect(uploaded.status).toBe(302);
    id = importIdFrom(uploaded);

    const mapping = await textOf(await browser.get(`/w/${workspace.slug}/contacts/import/${id}`));
    expect(mapping).toContain("अनन्या शर्मा");
    expect(mapping).toMatch(/<select[^>]*name="column\.1"/);
    // Guessed: Full name → name, E-mail → email, =Mobile → phone.
    expect(mapping).toMatch(/name="column\.0"[\s\S]*?<option value="name" selected/);
    expect(mapping).toMatch(/name="column\.2"[\s\S]*?<option value="phone" selected/);

    const noSource = await browser.post(`/w/${workspace.slug}/contacts/import/${id}`, {
      intent: "start",
      "column.0": "name",
      "column.1": "email",
      "column.2": "phone",
      "column.3": "ignore",
      onExisting: "update",
      consent: "email",
      consentSource: "",
    });
    expect(noSource.status).toBe(400);
    expect(await textOf(noSource)).toContain("Say where these people gave their consent");
    expect(stored(id).status).toBe("uploaded");

    const start = await browser.post(`/w/${workspace.slug}/contacts/import/${id}`, {
      intent: "start",
      "column.0": "name",
      "column.1": "email",
      "column.2": "phone",
      "column.3": "ignore",
      onExisting: "update",
      newListName: "Imported at the fair",
      tags: "fair, walk-in",
      consent: "email",
      consentSource: "signed up at the fair",
    });
    expect(start.status).toBe(302);
    expect(start.headers.get("location")).toBe(`/w/${workspace.slug}/contacts/import/${id}`);

    const done = await untilFinished(id);
    expect(done.status).toBe("completed");
    // "Bad Phone" has a usable email: kept without the phone, with a warning.
    expect(done.counts).toMatchObject({
      rowsDone: 5,
      imported: 3,
      updated: 0,
      skipped: 1,
      suppressed: 0,
      errors: 1,
      warnings: 1,
    });
    const summary = await textOf(await browser.get(`/w/${workspace.slug}/contacts/import/${id}`));
    expect(summary).toContain("Import complete");
    expect(summary).toContain("Download rejected rows (CSV)");
    expect(summary).toContain("Imported with warnings");
    expect(summary).toContain('"12345" is not a valid phone number for IN.');

    const ctx = openWorkspaceContext(workspace.id, { type: "system", id: "test" }, {});
    const ananya = ctx.db
      .select()
      .from(contacts)
      .where(eq(contacts.email, "ananya@example.com"))
      .get();
    expect(ananya).toMatchObject({ name: "अनन्या शर्मा", phone: "+919876543210" });

    const list = await textOf(await browser.get(`/w/${workspace.slug}/contacts/import`));
    expect(list).toContain("messy.csv");
    expect(list).toContain("Completed");
  });

  it("creates an attribute from a column when the import starts, and nothing for a refused form", async () => {
    const uploaded = await uploadAs(browser, workspace.slug, {
      name: "cafe.csv",
      content: "Name,Email,Town\nMeera,meera@example.com,Kochi\n",
    });
    const attrId = importIdFrom(uploaded);
    const page = `/w/${workspace.slug}/contacts/import/${attrId}`;
    const html = await textOf(await browser.get(page));
    expect(html).toContain('<option value="new_attribute">Create attribute…</option>');
    expect(html).toMatch(/<label for="column-2-label">New attribute label<\/label>/);
    expect(html).toMatch(
      /name="column\.2\.label"[^>]*value="Town"|value="Town"[^>]*name="column\.2\.label"/,
    );
    const ctx = openWorkspaceContext(workspace.id, { type: "system", id: "test" }, {});
    const definitions = () => listAttributeDefinitions(ctx).map((d) => d.key);
    const before = definitions();
    const form = {
      intent: "start",
      "column.0": "name",
      "column.1": "email",
      "column.2": "new_attribute",
      "column.2.label": "Email",
      "column.2.type": "text",
      "column.0.label": "",
      "column.0.type": "",
      onExisting: "update",
      newListName: "Kochi walk-ins",
    };

    const refused = await browser.post(page, form);
    expect(refused.status).toBe(400);
    const refusedHtml = await textOf(refused);
    expect(refusedHtml).toMatch(
      /id="column-2-label-error" class="field-error">“Email” is a built-in contact field/,
    );
    expect(definitions()).toEqual(before);
    expect(listGroups(ctx, "list", { counts: false }).map((l) => l.name)).not.toContain(
      "Kochi walk-ins",
    );
    expect(stored(attrId).status).toBe("uploaded");

    const stranger = await signedIn(server, outsider);
    const own = createWorkspaceFor(outsider);
    const foreign = await stranger.post(`/w/${own.slug}/contacts/import/${attrId}`, {
      ...form,
      "column.2.label": "Town",
    });
    expect(foreign.status).toBe(404);
    const ownCtx = openWorkspaceContext(own.id, { type: "system", id: "test" }, {});
    expect(listAttributeDefinitions(ownCtx)).toEqual([]);
    expect(stored(attrId).status).toBe("uploaded");

    const start = await browser.post(page, { ...form, "column.2.label": "Town" });
    expect(start.status).toBe(302);
    expect((await untilFinished(attrId)).status).toBe("completed");
    expect(definitions()).toEqual([...before, "town"]);
    const meera = ctx.db
      .select()
      .from(contacts)
      .where(eq(contacts.email, "meera@example.com"))
      .get()!;
    expect(JSON.parse(meera.attributes!)).toEqual({ town: "Kochi" });
  });

  it("serves the rejected rows as CSV with formula cells escaped", async () => {
    const res = await browser.get(`/w/${workspace.slug}/contacts/import/${id}/rejected.csv`);
    expect(res.status).toBe(200);
    expect(res.headers.get("content-type")).toMatch(/^text\/csv/);
    expect(res.headers.get("content-disposition")).toBe(
      'attachment; filename="rejected-rows-messy.csv"',
    );
    expect(await res.text()).toBe(
      "Row,Column,Reason\r\n" +
        "6,E-mail / =Mobile,The row has neither an email address nor a phone number.\r\n",
    );
  });

  it("refuses files that are too large or not CSV, with a clear message", async () => {
    const big = await uploadAs(browser, workspace.slug, {
      name: "big.csv",
      content: `Email\n${"someone@example.com\n".repeat(UPLOAD_LIMIT / 10)}`,
    });
    expect(big.status).toBe(413);
    expect(await textOf(big)).toContain("The file is larger than");

    const binary = await uploadAs(browser, workspace.slug, {
      name: "photo.csv",
      content: Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a, 0, 0, 0, 13, 1, 2]),
    });
    expect(binary.status).toBe(400);
    expect(await textOf(binary)).toContain("This file is not a CSV text file");

    const nothing = await browser.post(`/w/${workspace.slug}/contacts/import`, {});
    expect(nothing.status).toBe(400);
  });

  it("refuses a form of too many parts or too much field text with 413, storing nothing", async () => {
    const boundary = `----engage${randomBytes(8).toString("hex")}`;
    const field = (name: string, value: string) =>
      `--${boundary}\r\nContent-Disposition: form-data; name="${name}"\r\n\r\n${value}\r\n`;
    const file = `--${boundary}\r\nContent-Disposition: form-data; name="file"; filename="ok.csv"\r\nContent-Type: text/csv\r\n\r\nEmail\r\nsomeone@example.com\r\n`;
    const send = (body: string) =>
      server.fetch(`/w/${workspace.slug}/contacts/import`, {
        method: "POST",
        headers: {
          cookie: browser.cookie,
          origin: server.url,
          "content-type": `multipart/form-data; boundary=${boundary}`,
        },
        body: `${body}--${boundary}--\r\n`,
      });
    const ctx = openWorkspaceContext(workspace.id, { type: "system", id: "test" }, {});
    const before = listImports(ctx, { limit: 1000 }).length;
    const dir = join(server.dataDir, "uploads", workspace.id);
    const uploads = () => (existsSync(dir) ? readdirSync(dir).length : 0);
    const filesBefore = uploads();

    // Field text over 64 KB in parts under the 16 KB a part may have, the body still under
    // this server's upload limit (IMPORT_MAX_BYTES here is 8 KB, plus room for the form).
    const many = Array.from({ length: 30 }, (_, i) => field(`f${i}`, "x")).join("");
    const cases = {
      "many parts before the file": many + file,
      "many parts after the file": file + many,
      "too much field text":
        file + [1, 2, 3, 4, 5].map((i) => field(`f${i}`, "y".repeat(13_300))).join(""),
    };
    for (const [what, body] of Object.entries(cases)) {
      const res = await send(body);
      expect(res.status, what).toBe(413);
      expect(await textOf(res), what).toContain("too many fields or too much text");
    }
    expect(listImports(ctx, { limit: 1000 })).toHaveLength(before);
    expect(uploads()).toBe(filesBefore);
    // The same file with a few ordinary fields still goes through.
    const ok = await send(field("note", "hello") + file);
    expect(ok.status).toBe(302);
  });

  it("is refused to a viewer (403) and to other workspaces (404)", async () => {
    const asViewer = await signedIn(server, viewer);
    expect((await asViewer.get(`/w/${workspace.slug}/contacts/import`)).status).toBe(403);
    expect((await asViewer.get(`/w/${workspace.slug}/contacts/import/${id}`)).status).toBe(403);
    expect(
      (await asViewer.get(`/w/${workspace.slug}/contacts/import/${id}/rejected.csv`)).status,
    ).toBe(403);
    const upload = await uploadAs(asViewer, workspace.slug, {
      name: "x.csv",
      content: "Email\na@b.co\n",
    });
    expect(upload.status).toBe(403);

    const stranger = await signedIn(server, outsider);
    expect((await stranger.get(`/w/${workspace.slug}/contacts/import/${id}`)).status).toBe(404);
    const own = createWorkspaceFor(outsider);
    // Their own workspace does not have this import either.
    expect((await stranger.get(`/w/${own.slug}/contacts/import/${id}`)).status).toBe(404);
    expect((await stranger.get(`/w/${own.slug}/contacts/import/${id}/rejected.csv`)).status).toBe(
      404,
    );
    expect((await stranger.get(`/w/${own.slug}/contacts/import/not-an-id`)).status).toBe(404);
  });
});

describe("npm run engage -- contacts import", () => {
  const dir = mkdtempSync(join(tmpdir(), "engage-cli-import-"));

  it("imports with the mapping guessed, prints the summary, exits 0 despite rejected rows and warnings", async () => {
    const file = join(dir, "cli.csv");
    writeFileSync(
      file,
      "Name,Email Address,Phone Number\nCli One,one@cli.example,98765 99001\nCli Two,two@cli.example,not a phone\nCli One,ONE@cli.example,\nNo One,not an email,not a phone\n",
    );
    const result = await runCli(
      [
        "contacts",
        "import",
        "--workspace",
        workspace.slug,
        "--file",
        file,
        "--consent",
        "email,whatsapp",
        "--consent-source",
        "signed up on website form",
      ],
      { DATA_DIR: process.env.DATA_DIR!, LOG_LEVEL: "silent" },
    );
    expect(result.stderr).toBe("");
    expect(result.code).toBe(0);
    expect(result.json).toEqual([
      { imported: 2, updated: 0, skipped: 1, suppressed: 0, errors: 1, warnings: 1 },
    ]);
  });

  it("exits non-zero when the file is missing or is not a CSV file", async () => {
    const env = { DATA_DIR: process.env.DATA_DIR!, LOG_LEVEL: "silent" };
    const missing = await runCli(
      ["contacts", "import", "--workspace", workspace.slug, "--file", join(dir, "nope.csv")],
      env,
    );
    expect(missing.code).toBe(1);
    expect(missing.stderr).toMatch(/cannot read/);
    expect(missing.json).toEqual([]);

    const binary = join(dir, "binary.csv");
    writeFileSync(binary, Buffer.from([0x50, 0x4b, 0x03, 0x04, 0, 0, 0, 0, 8, 0, 0x21, 0]));
    const refused = await runCli(
      ["contacts", "import", "--workspace", workspace.slug, "--file", binary],
      env,
    );
    expect(refused.code).toBe(1);
    expect(refused.stderr).toMatch(/Excel workbook/);

    const noColumns = join(dir, "no-columns.csv");
    writeFileSync(noColumns, "Colour,Size\nred,L\n");
    const unmapped = await runCli(
      ["contacts", "import", "--workspace", workspace.slug, "--file", noColumns],
      env,
    );
    expect(unmapped.code).toBe(1);
    expect(unmapped.stderr).toMatch(/email addresses or the one with phone numbers/);
  });
});
