import { existsSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { strToU8, zipSync } from "fflate";
import { beforeAll, describe, expect, it } from "vitest";
import { rejected, thrown } from "../../../tests/support/errors";
import { seedConversation, seedInboxTeam } from "../../../tests/support/inbox-seed";
import { makeWorkspace } from "../../../tests/support/workspaces";
import { getEnv } from "~/lib/env.server";
import { NotFoundError, ValidationError } from "~/lib/errors";
import { eraseContact } from "../contacts/contacts.server";
import type { WorkspaceContext } from "../context";
import { AttachmentRefusedError, checkAttachment, sniffType } from "./attachment-types.server";
import {
  mediaContent,
  readAttachment,
  removeWorkspaceAttachments,
  storeAttachment,
} from "./attachments.server";

const PNG = Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a, 0, 0, 0, 13, 73, 72]);
const JPEG = Buffer.from([0xff, 0xd8, 0xff, 0xe0, 0, 16, 0x4a, 0x46, 0x49, 0x46]);
const WEBP = Buffer.concat([
  Buffer.from("RIFF"),
  Buffer.from([36, 0, 0, 0]),
  Buffer.from("WEBPVP8 "),
]);
const PDF = Buffer.from("%PDF-1.7\n1 0 obj\n<<>>\nendobj\n%%EOF\n");
const EXE = Buffer.concat([Buffer.from("MZ"), Buffer.alloc(64, 0x90)]);
const office = (folder: string) =>
  Buffer.from(
    zipSync({
      "[Content_Types].xml": strToU8("<Types/>"),
      [`${folder}/document.xml`]: strToU8("<x/>"),
    }),
  );
const PLAIN_ZIP = Buffer.from(zipSync({ "notes.txt": strToU8("hello") }));

describe("sniffing", () => {
  it.each([
    ["photo.jpg", JPEG, "image", "image/jpeg"],
    ["logo.png", PNG, "image", "image/png"],
    ["pic.webp", WEBP, "image", "image/webp"],
    ["invoice.pdf", PDF, "document", "application/pdf"],
    [
      "letter.docx",
      office("word"),
      "document",
      "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
    ],
    [
      "sheet.xlsx",
      office("xl"),
      "document",
      "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
    ],
    [
      "deck.pptx",
      office("ppt"),
      "document",
      "application/vnd.openxmlformats-officedocument.presentationml.presentation",
    ],
    ["readme.txt", Buffer.from("Opening hours: 9–5\n"), "document", "text/plain"],
  ])("%s is what its bytes say", (name, bytes, kind, mime) => {
    const type = checkAttachment(name, bytes);
    expect(type).toMatchObject({ kind, mimeType: mime, filename: name });
  });

  it("refuses bytes of a type it does not take", () => {
    expect(sniffType(EXE)).toBeNull();
    expect(sniffType(PLAIN_ZIP)).toBeNull();
    const error = thrown(() => checkAttachment("setup.zip", PLAIN_ZIP));
    expect(error).toBeInstanceOf(AttachmentRefusedError);
    expect((error as AttachmentRefusedError).status).toBe(415);
  });

  it("refuses a name whose extension lies about the bytes", () => {
    const pdf = thrown(() => checkAttachment("invoice.pdf", PNG)) as AttachmentRefusedError;
    expect(pdf).toBeInstanceOf(AttachmentRefusedError);
    expect(pdf.status).toBeGreaterThanOrEqual(400);
    expect(pdf.status).toBeLessThan(500);
    expect(pdf.message).toBe(
      "“invoice.pdf” is named .pdf, but its contents are a PNG image. Choose the right file, or rename it to .png.",
    );
    const exe = thrown(() => checkAttachment("cat.jpg", EXE)) as AttachmentRefusedError;
    expect(exe.message).toContain("cannot be attached");
    const docx = thrown(() => checkAttachment("report.docx", office("xl")));
    expect(docx.message).toContain("an Excel spreadsheet");
  });

  it("holds the size limits: empty, images 5 MB, documents 16 MB", () => {
    expect(thrown(() => checkAttachment("empty.png", Buffer.alloc(0))).message).toBe(
      "“empty.png” is empty.",
    );
    const bigImage = Buffer.concat([PNG, Buffer.alloc(5 * 1024 * 1024)]);
    const image = thrown(() => checkAttachment("big.png", bigImage)) as AttachmentRefusedError;
    expect(image.status).toBe(413);
    expect(image.message).toContain("images can be at most 5 MB");
    const okPdf = Buffer.concat([PDF, Buffer.alloc(6 * 1024 * 1024)]);
    expect(checkAttachment("big.pdf", okPdf).kind).toBe("document");
    const bigPdf = Buffer.concat([PDF, Buffer.alloc(16 * 1024 * 1024)]);
    expect(
      (thrown(() => checkAttachment("huge.pdf", bigPdf)) as AttachmentRefusedError).status,
    ).toBe(413);
  });

  it("keeps only the file's own name", () => {
    expect(checkAttachment("../../etc/logo.png", PNG).filename).toBe("logo.png");
    expect(checkAttachment("C:\\Users\\me\\logo.png", PNG).filename).toBe("logo.png");
  });
});

describe("the attachment store", () => {
  let a: WorkspaceContext;
  let b: WorkspaceContext;
  beforeAll(async () => {
    a = await makeWorkspace("attach-a");
    b = await makeWorkspace("attach-b");
  });

  it("keeps the bytes under DATA_DIR/attachments/<workspace>/<id> with the sniffed type", async () => {
    const row = storeAttachment(a, { filename: "logo.png", bytes: PNG, createdBy: "usr_x" });
    expect(row).toMatchObject({ kind: "image", mimeType: "image/png", size: PNG.length });
    const path = join(getEnv().DATA_DIR, "attachments", a.workspaceId, row.id);
    expect(readFileSync(path)).toEqual(PNG);
    const read = await readAttachment(a, row.id);
    expect(read.bytes).toEqual(PNG);
    expect(read.attachment.filename).toBe("logo.png");
  });

  it("keeps nothing it refuses", () => {
    expect(() => storeAttachment(a, { filename: "x.pdf", bytes: PNG, createdBy: null })).toThrow(
      AttachmentRefusedError,
    );
  });

  it("does not find another workspace's attachment", async () => {
    const row = storeAttachment(a, { filename: "doc.pdf", bytes: PDF, createdBy: null });
    expect(await rejected(readAttachment(b, row.id))).toBeInstanceOf(NotFoundError);
    expect(await rejected(readAttachment(a, "../../x"))).toBeInstanceOf(NotFoundError);
  });

  it("hides what a customer sent from agents who cannot see its conversation", async () => {
    const teamA = seedInboxTeam(a, "Attach A", ["usr_agent_a"]);
    seedInboxTeam(a, "Attach B", ["usr_agent_b"]);
    const conversationId = seedConversation(a, { teamId: teamA });
    const row = storeAttachment(a, { filename: "receipt.png", bytes: PNG, createdBy: null });
    a.db.$client
      .prepare(
        `INSERT INTO inbound_messages (contact_id, channel, sender, text, provider_message_id, at,
           conversation_id, attachment_id)
         SELECT contact_id, 'whatsapp', '+917000000000', '[image]', 'wamid.att', ?, id, ?
           FROM conversations WHERE id = ?`,
      )
      .run(Date.now(), row.id, conversationId);
    const agent = (userId: string, teamIds: number[]) =>
      ({ userId, name: userId, role: "agent", teamIds }) as const;
    const teamBId = (
      a.db.$client.prepare("SELECT id FROM teams WHERE name = 'Attach B'").get() as {
        id: number;
      }
    ).id;
    expect(
      await rejected(readAttachment(a, row.id, agent("usr_agent_b", [teamBId]))),
    ).toBeInstanceOf(NotFoundError);
    const seen = await readAttachment(a, row.id, agent("usr_agent_a", [teamA]));
    expect(seen.bytes).toEqual(PNG);
  });

  it("goes with the contact who sent it when they are erased, and not before it commits", async () => {
    const conversationId = seedConversation(a);
    const first = storeAttachment(a, { filename: "id-card.png", bytes: PNG, createdBy: null });
    const second = storeAttachment(a, { filename: "bill.png", bytes: PNG, createdBy: null });
    const contactId = (
      a.db.$client
        .prepare("SELECT contact_id FROM conversations WHERE id = ?")
        .get(conversationId) as { contact_id: number }
    ).contact_id;
    const insert = a.db.$client.prepare(
      `INSERT INTO inbound_messages (contact_id, channel, sender, text, provider_message_id, at,
         conversation_id, attachment_id) VALUES (?, 'whatsapp', '+917000000001', '[image]',
         ?, ?, ?, ?)`,
    );
    insert.run(contactId, "wamid.erase.1", Date.now(), conversationId, first.id);
    insert.run(contactId, "wamid.erase.2", Date.now(), conversationId, second.id);
    const pathOf = (id: string) => join(getEnv().DATA_DIR, "attachments", a.workspaceId, id);
    expect(existsSync(pathOf(first.id))).toBe(true);

    // The erasure fails half-way (on the second file's row) and rolls back: every row and every
    // file is still there, none of the bytes went ahead of the commit.
    a.db.$client.exec(
      `CREATE TEMP TRIGGER refuse_erasure BEFORE DELETE ON attachments
       WHEN old.id = '${second.id}' BEGIN SELECT RAISE(ABORT, 'disk trouble'); END`,
    );
    try {
      expect(() => eraseContact(a, contactId)).toThrow(/disk trouble/);
    } finally {
      a.db.$client.exec("DROP TRIGGER temp.refuse_erasure");
    }
    for (const row of [first, second]) {
      expect(existsSync(pathOf(row.id))).toBe(true);
      expect((await readAttachment(a, row.id)).bytes).toEqual(PNG);
    }

    eraseContact(a, contactId);

    for (const row of [first, second]) {
      expect(existsSync(pathOf(row.id))).toBe(false);
      expect(await rejected(readAttachment(a, row.id))).toBeInstanceOf(NotFoundError);
    }
  });

  it("makes WhatsApp media content, and refuses attachments on other channels", () => {
    const row = storeAttachment(a, { filename: "doc.pdf", bytes: PDF, createdBy: null });
    expect(mediaContent("whatsapp", row, " Your invoice ")).toEqual({
      channel: "whatsapp",
      type: "media",
      media: {
        kind: "document",
        attachmentId: row.id,
        mimeType: "application/pdf",
        filename: "doc.pdf",
      },
      caption: "Your invoice",
    });
    for (const channel of ["sms", "telegram", "email"] as const) {
      const error = thrown(() => mediaContent(channel, row));
      expect(error).toBeInstanceOf(ValidationError);
      expect(error.message).toContain("Attachments can only be sent on WhatsApp");
    }
  });

  it("goes with a deleted workspace's purge", async () => {
    const c = await makeWorkspace("attach-c");
    storeAttachment(c, { filename: "logo.png", bytes: PNG, createdBy: null });
    const dir = join(getEnv().DATA_DIR, "attachments", c.workspaceId);
    expect(existsSync(dir)).toBe(true);
    expect(removeWorkspaceAttachments(c.workspaceId)).toBe(true);
    expect(existsSync(dir)).toBe(false);
  });
});
