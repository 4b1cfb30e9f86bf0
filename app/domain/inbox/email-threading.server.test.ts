import { describe, expect, it } from "vitest";
import { MAX_REPLY_SUBJECT, replyReferences, replySubject } from "./email-threading.server";

describe("replySubject", () => {
  it("prefixes Re: once, whatever prefixes the clients stacked", () => {
    expect(replySubject("Order 42")).toBe("Re: Order 42");
    expect(replySubject("Re: Order 42")).toBe("Re: Order 42");
    expect(replySubject("RE: re:Order 42")).toBe("Re: Order 42");
    expect(replySubject("Re[2]: AW: Sv: Order 42")).toBe("Re: Order 42");
    // A forward stays one: answering it is "Re: Fwd: ...", as mail clients write it.
    expect(replySubject("Fwd: Order 42")).toBe("Re: Fwd: Order 42");
    // "Regarding" is a word, not a prefix.
    expect(replySubject("Regarding: my order")).toBe("Re: Regarding: my order");
  });

  it("is null for an empty subject and fits the page's subject field", () => {
    expect(replySubject("  Re:  ")).toBeNull();
    expect(replySubject("")).toBeNull();
    const long = replySubject("x".repeat(400))!;
    expect(long.length).toBe(MAX_REPLY_SUBJECT);
    expect(long.startsWith("Re: xxx")).toBe(true);
  });
});

describe("replyReferences", () => {
  it("cites the chain then the mail answered, once each", () => {
    expect(replyReferences(["a@x", "b@x"], "c@x")).toEqual(["a@x", "b@x", "c@x"]);
    expect(replyReferences(["a@x", "c@x"], "c@x")).toEqual(["a@x", "c@x"]);
    expect(replyReferences([], "c@x")).toEqual(["c@x"]);
  });

  it("keeps the thread's root and the nearest ids when the chain is long", () => {
    const chain = Array.from({ length: 30 }, (_, i) => `m${i}@x`);
    const refs = replyReferences(chain, "last@x");
    expect(refs).toHaveLength(10);
    expect(refs[0]).toBe("m0@x");
    expect(refs.slice(-2)).toEqual(["m29@x", "last@x"]);
  });

  it("drops ids that could not be sent as one header", () => {
    expect(replyReferences(["a b@x", "<c@x>", "ok@x"], "d@x")).toEqual(["ok@x", "d@x"]);
  });
});
