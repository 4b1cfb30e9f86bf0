import { beforeAll, describe, expect, it } from "vitest";
import { ValidationError } from "~/lib/errors";
import { makeWorkspace } from "../../../tests/support/workspaces";
import type { WorkspaceContext } from "../context";
import {
  createSnippet,
  deleteSnippet,
  getSnippet,
  listSnippets,
  searchKnowledge,
  SNIPPET_BODY_MAX,
  toFtsQuery,
  updateSnippet,
} from "./knowledge.server";

let ctx: WorkspaceContext;
const ids: Record<string, number> = {};

beforeAll(async () => {
  ctx = await makeWorkspace("ai-knowledge", { name: "Chai Point" });
  ids.delivery = createSnippet(ctx, {
    title: "Delivery days",
    body: "We deliver Monday to Saturday between 9am and 9pm. No deliveries on Sunday.",
  }).id;
  ids.refunds = createSnippet(ctx, {
    title: "Refunds",
    body: "Refunds are paid to the original payment method within 7 days of the return.",
  }).id;
  ids.hindi = createSnippet(ctx, {
    title: "डिलीवरी शुल्क",
    body: "₹499 से ऊपर के ऑर्डर पर डिलीवरी मुफ़्त है।",
  }).id;
});

describe("toFtsQuery", () => {
  it("quotes each distinct word and joins them with OR; operators and quotes are just words", () => {
    expect(toFtsQuery('Refunds NOT "delivery" AND (sunday*) or refund')).toBe(
      '"refund"* OR "not"* OR "delivery"* OR "and"* OR "sunday"* OR "or"',
    );
    expect(toFtsQuery("डिलीवरी कब?")).toBe('"डिलीवरी"* OR "कब"');
    expect(toFtsQuery("?!… --")).toBeNull();
  });
});

describe("searchKnowledge", () => {
  it("finds snippets by any word, best match first", () => {
    const found = searchKnowledge(ctx, "Do you deliver on Sunday? And what about refunds?");
    expect(found.map((s) => s.id)).toEqual(expect.arrayContaining([ids.delivery, ids.refunds]));
    expect(searchKnowledge(ctx, "sunday delivery refunds?", 1)[0]!.id).toBe(ids.delivery);
    expect(searchKnowledge(ctx, "when is my refund paid back, refunds please")[0]!.id).toBe(
      ids.refunds,
    );
  });

  it("matches singular and plural forms", () => {
    expect(searchKnowledge(ctx, "refund")[0]!.id).toBe(ids.refunds);
    expect(searchKnowledge(ctx, "deliveries")[0]!.id).toBe(ids.delivery);
  });

  it("matches Hindi words, and never fails on FTS syntax in what customers type", () => {
    expect(searchKnowledge(ctx, "डिलीवरी मुफ़्त कब है?").map((s) => s.id)).toEqual([ids.hindi]);
    for (const text of ['"', "NEAR(", "a* OR", "title:x", "^", ")", "-", "AND OR NOT"]) {
      expect(() => searchKnowledge(ctx, text)).not.toThrow();
    }
    expect(searchKnowledge(ctx, "")).toEqual([]);
    expect(searchKnowledge(ctx, "zebra unicorn")).toEqual([]);
  });

  it("follows edits and deletions (the FTS index is kept in step)", () => {
    const s = createSnippet(ctx, { title: "Gift cards", body: "Gift cards never expire." });
    expect(searchKnowledge(ctx, "voucher").map((x) => x.id)).not.toContain(s.id);
    updateSnippet(ctx, s.id, { title: "Gift vouchers", body: "Vouchers never expire." });
    expect(searchKnowledge(ctx, "voucher vouchers").map((x) => x.id)).toContain(s.id);
    expect(searchKnowledge(ctx, "cards").map((x) => x.id)).not.toContain(s.id);
    deleteSnippet(ctx, s.id);
    expect(searchKnowledge(ctx, "vouchers")).toEqual([]);
    expect(() => getSnippet(ctx, s.id)).toThrow(/not found/);
  });
});

describe("snippet CRUD", () => {
  it("checks title and text, up to 4,000 characters, and lists by title", () => {
    expect(() => createSnippet(ctx, { title: " ", body: "x" })).toThrow(ValidationError);
    expect(() =>
      createSnippet(ctx, { title: "Long", body: "x".repeat(SNIPPET_BODY_MAX + 1) }),
    ).toThrow(/under 4,000 characters/);
    const ok = createSnippet(ctx, { title: "Long", body: "x".repeat(SNIPPET_BODY_MAX) });
    expect(ok.body).toHaveLength(SNIPPET_BODY_MAX);
    expect(() => updateSnippet(ctx, 99_999, { title: "a", body: "b" })).toThrow(/not found/);
    const titles = listSnippets(ctx).map((s) => s.title);
    expect(titles).toEqual([...titles].sort((a, b) => (a < b ? -1 : a > b ? 1 : 0)));
  });
});
