import { describe, expect, it } from "vitest";
import { inboundMessages } from "~/db/schema/tenant";
import { createContact, eraseContact } from "~/domain/contacts/contacts.server";
import { makeWorkspace } from "../../tests/support/workspaces";

/**
 * The full-text indexes beside a workspace's rows: what a customer wrote is searchable while the
 * row exists, and leaves the index's own pages (not just the results) when the row goes.
 */

const WORD = "zanzibarquokka";

function indexPagesHolding(ctx: Awaited<ReturnType<typeof makeWorkspace>>, word: string): number {
  return ctx.db.$client
    .prepare("SELECT count(*) FROM inbound_messages_fts_data WHERE instr(block, ?) > 0")
    .pluck()
    .get(Buffer.from(word)) as number;
}

describe("inbound message search", () => {
  it("finds what a customer wrote, and forgets it when the contact is erased", async () => {
    const ctx = await makeWorkspace("fts-erase");
    const contact = createContact(ctx, { name: "Asha", phone: "+919800000001" });
    ctx.db
      .insert(inboundMessages)
      .values({
        contactId: contact.id,
        channel: "whatsapp",
        sender: "+919800000001",
        text: `Is the ${WORD} blend back in stock?`,
        providerMessageId: "wamid.fts-1",
        at: new Date(),
      })
      .run();
    const search = () =>
      ctx.db.$client
        .prepare("SELECT rowid FROM inbound_messages_fts WHERE inbound_messages_fts MATCH ?")
        .pluck()
        .all(WORD);
    expect(search()).toHaveLength(1);
    expect(indexPagesHolding(ctx, WORD)).toBeGreaterThan(0);

    eraseContact(ctx, contact.id);

    expect(search()).toEqual([]);
    expect(indexPagesHolding(ctx, WORD)).toBe(0);
  });
});
