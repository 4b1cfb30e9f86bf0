import { beforeAll, describe, expect, it } from "vitest";
import { defineAttribute, insertContact } from "../../../tests/support/contacts";
import { thrown } from "../../../tests/support/errors";
import { makeWorkspace } from "../../../tests/support/workspaces";
import { ValidationError } from "~/lib/errors";
import type { WorkspaceContext } from "../context";
import { storeAttachment } from "./attachments.server";
import {
  createCannedResponse,
  deleteCannedResponse,
  findCannedByShortcut,
  listCannedResponses,
  renderCannedResponses,
  updateCannedResponse,
} from "./canned.server";

const PNG = Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a, 0, 0, 0, 13]);
const PDF = Buffer.from("%PDF-1.7\n%%EOF\n");

let ctx: WorkspaceContext;
let asha: number;
let nameless: number;

beforeAll(async () => {
  ctx = await makeWorkspace("canned-domain");
  defineAttribute(ctx.db, "city", "text");
  asha = insertContact(ctx.db, {
    name: "Asha Rao",
    phone: "+919800000001",
    attributes: { city: "Pune" },
  });
  nameless = insertContact(ctx.db, { name: "", phone: "+919800000002" });
});

describe("canned responses", () => {
  it("creates, lists, finds by shortcut prefix, updates and deletes", () => {
    const created = createCannedResponse(ctx, {
      shortcut: "Refund-Policy",
      title: "Refund policy",
      body: "Refunds take 5 days.",
    });
    expect(created.shortcut).toBe("refund-policy");
    createCannedResponse(ctx, { shortcut: "hours", title: "Hours", body: "9 to 5." });
    expect(listCannedResponses(ctx).map((c) => c.shortcut)).toEqual(["hours", "refund-policy"]);
    expect(findCannedByShortcut(ctx, "/ref").map((c) => c.shortcut)).toEqual(["refund-policy"]);
    expect(findCannedByShortcut(ctx, "").length).toBe(2);
    expect(findCannedByShortcut(ctx, "%")).toEqual([]);
    const updated = updateCannedResponse(ctx, created.id, {
      shortcut: "refunds",
      title: "Refunds",
      body: "Refunds take 3 days.",
    });
    expect(updated).toMatchObject({ shortcut: "refunds", body: "Refunds take 3 days." });
    deleteCannedResponse(ctx, created.id);
    expect(listCannedResponses(ctx).map((c) => c.shortcut)).toEqual(["hours"]);
  });

  it("refuses a duplicate shortcut with a clear message on the field", () => {
    createCannedResponse(ctx, { shortcut: "dup", title: "One", body: "One" });
    const error = thrown(() =>
      createCannedResponse(ctx, { shortcut: "dup", title: "Two", body: "Two" }),
    ) as ValidationError;
    expect(error).toBeInstanceOf(ValidationError);
    expect(error.fieldErrors.shortcut).toEqual([
      "The shortcut /dup is already used by another canned response.",
    ]);
  });

  it("refuses bad input: shortcut, long body, broken or unknown variables", () => {
    const bad = (input: { shortcut: string; title: string; body: string }) =>
      thrown(() => createCannedResponse(ctx, input)) as ValidationError;
    expect(
      bad({ shortcut: "no spaces", title: "x", body: "x" }).fieldErrors.shortcut,
    ).toBeDefined();
    expect(
      bad({ shortcut: "a".repeat(31), title: "x", body: "x" }).fieldErrors.shortcut,
    ).toBeDefined();
    expect(
      bad({ shortcut: "long", title: "x", body: "x".repeat(4097) }).fieldErrors.body,
    ).toBeDefined();
    expect(bad({ shortcut: "broken", title: "x", body: "Hi {{ first_name " }).message).toContain(
      "not closed",
    );
    expect(
      bad({ shortcut: "unknown", title: "x", body: "Hi {{ contact.shoe_size }}" }).message,
    ).toBe("{{ contact.shoe_size }} is not a contact field or custom attribute.");
  });

  it("renders variables with fallbacks, prompts, and stacks several with their attachments", () => {
    const png = storeAttachment(ctx, { filename: "map.png", bytes: PNG, createdBy: null });
    const pdf = storeAttachment(ctx, { filename: "terms.pdf", bytes: PDF, createdBy: null });
    const greet = createCannedResponse(ctx, {
      shortcut: "greet",
      title: "Greeting",
      body: 'Hi {{ contact.first_name | default: "there" }} from {{ attributes.city | default: "us" }}!',
      attachmentIds: [png.id],
    });
    const order = createCannedResponse(ctx, {
      shortcut: "order",
      title: "Order status",
      body: 'Order {{ prompt: Order number }} ships {{ prompt: "Ship date" | default: "soon" }}.',
      attachmentIds: [pdf.id],
    });
    expect(order.prompts).toEqual(["Order number", "Ship date"]);

    const full = renderCannedResponses(ctx, asha, [greet.id, order.id], {
      "Order number": "A-17",
      "Ship date": "Friday",
    });
    expect(full.text).toBe("Hi Asha from Pune!\n\nOrder A-17 ships Friday.");
    expect(full.attachments.map((a) => a.filename)).toEqual(["map.png", "terms.pdf"]);
    expect(full.prompts).toEqual([]);

    const partial = renderCannedResponses(ctx, nameless, [order.id, greet.id], {});
    expect(partial.text).toBe("Order  ships soon.\n\nHi there from us!");
    expect(partial.prompts).toEqual(["Order number", "Ship date"]);
  });

  it("deletes attachments a response drops, and refuses ids that are not there", () => {
    const png = storeAttachment(ctx, { filename: "a.png", bytes: PNG, createdBy: null });
    const canned = createCannedResponse(ctx, {
      shortcut: "with-file",
      title: "File",
      body: "See attached.",
      attachmentIds: [png.id],
    });
    updateCannedResponse(ctx, canned.id, {
      shortcut: "with-file",
      title: "File",
      body: "No file.",
    });
    const error = thrown(() =>
      createCannedResponse(ctx, {
        shortcut: "gone",
        title: "Gone",
        body: "x",
        attachmentIds: [png.id],
      }),
    ) as ValidationError;
    expect(error.fieldErrors.attachmentIds).toBeDefined();
  });
});
