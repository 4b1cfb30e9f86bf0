import { describe, expect, it } from "vitest";
import { rawEmail } from "../../tests/fakes/ses-inbound";
import {
  InboundEmailError,
  isAutomated,
  parseInboundEmail,
  stripQuotedHistory,
} from "./email-inbound.server";

const QUOTED = [
  "Yes please, send me the large one.",
  "",
  "On Mon, 7 Dec 2026 at 10:02, Shop <news@shop.example> wrote:",
  "> Monsoon sale!",
  "> See the sale",
].join("\r\n");

describe("parseInboundEmail", () => {
  it("reads a plain reply: sender, recipients, threading ids, new text only", async () => {
    const email = await parseInboundEmail(
      rawEmail({
        from: "Asha Rao <Asha@Example.com>",
        to: "reply+abc@in.engage.test",
        subject: "Re: Monsoon sale",
        text: QUOTED,
        messageId: "<r1@mail.example.com>",
        inReplyTo: "<0100abc@ap-south-1.amazonses.com>",
        references: "<first@shop.example> <0100abc@ap-south-1.amazonses.com>",
      }),
    );
    expect(email.from).toBe("asha@example.com");
    expect(email.fromName).toBe("Asha Rao");
    expect(email.recipients).toEqual(["reply+abc@in.engage.test"]);
    expect(email.messageId).toBe("r1@mail.example.com");
    expect(email.subject).toBe("Re: Monsoon sale");
    expect(email.replyingTo).toEqual(["0100abc@ap-south-1.amazonses.com", "first@shop.example"]);
    expect(email.references).toEqual(["first@shop.example", "0100abc@ap-south-1.amazonses.com"]);
    expect(email.text).toBe("Yes please, send me the large one.");
    expect(email.fullText).toContain("> Monsoon sale!");
    expect(email.automated).toBe(false);
  });

  it("keeps what threading an answer needs: folded Message-ID, encoded folded subject, chain", async () => {
    const raw = [
      "From: Asha <asha@example.com>",
      "To: support@shop.example",
      // An encoded-word subject folded over two lines, as clients write long non-ASCII ones.
      "Subject: =?UTF-8?Q?Re=3A_Commande_n=C2=B0_42_?=",
      " =?UTF-8?Q?=E2=80=94_livraison?=",
      "Message-ID:",
      " <CAF=x9+long.id@mail.gmail.com>",
      "In-Reply-To: <parent@shop.example>",
      "Date: Mon, 7 Dec 2026 10:00:00 +0000",
      "Content-Type: text/plain; charset=utf-8",
      "",
      "Where is it?",
    ].join("\r\n");
    const email = await parseInboundEmail(raw);
    expect(email.messageId).toBe("CAF=x9+long.id@mail.gmail.com");
    expect(email.subject).toBe("Re: Commande n° 42 — livraison");
    // No References header: the chain an answer cites is the In-Reply-To id.
    expect(email.references).toEqual(["parent@shop.example"]);
  });

  it("turns HTML-only mail into text and drops the quoted blockquote", async () => {
    const email = await parseInboundEmail(
      rawEmail({
        from: "asha@example.com",
        to: "reply+abc@in.engage.test",
        html:
          "<html><head><style>p{color:red}</style></head><body><p>Is it in <b>blue</b> &amp; green?</p>" +
          '<div class="gmail_quote">On Mon Shop wrote:<blockquote>Monsoon sale!</blockquote></div></body></html>',
      }),
    );
    expect(email.text).toBe("Is it in blue & green?");
    expect(email.fullText).toContain("Monsoon sale!");
  });

  it("decodes a non-UTF-8 charset (ISO-8859-1) and RFC 2047 subjects", async () => {
    const email = await parseInboundEmail(
      rawEmail({
        from: "jose@example.com",
        to: "reply+abc@in.engage.test",
        subject: "=?ISO-8859-1?Q?R=E9ponse?=",
        text: "Très bien, merci. Ça marche.",
        charset: "iso-8859-1",
      }),
    );
    expect(email.subject).toBe("Réponse");
    expect(email.text).toBe("Très bien, merci. Ça marche.");
  });

  it("prefers the text part of multipart/alternative", async () => {
    const email = await parseInboundEmail(
      rawEmail({
        from: "a@example.com",
        to: "b@example.com",
        text: "plain words",
        html: "<p>html words</p>",
      }),
    );
    expect(email.text).toBe("plain words");
  });

  it("flags machine-written mail (Auto-Submitted, Precedence)", async () => {
    const auto = await parseInboundEmail(
      rawEmail({
        from: "a@example.com",
        to: "b@example.com",
        text: "I am out of office",
        headers: { "Auto-Submitted": "auto-replied" },
      }),
    );
    expect(auto.automated).toBe(true);
    expect(isAutomated("no", "")).toBe(false);
    expect(isAutomated("", "bulk")).toBe(true);
    expect(isAutomated("", "List")).toBe(true);
    expect(isAutomated("", "first-class")).toBe(false);
  });

  it("refuses what is not an email", async () => {
    await expect(parseInboundEmail(Buffer.alloc(0))).rejects.toBeInstanceOf(InboundEmailError);
  });
});

describe("stripQuotedHistory", () => {
  it("drops '>' lines and everything from an 'On ... wrote:' line, also when wrapped", () => {
    expect(stripQuotedHistory(QUOTED)).toBe("Yes please, send me the large one.");
    expect(
      stripQuotedHistory(
        "Thanks!\n\nOn Mon, 7 Dec 2026 at 10:02, Shop\n<news@shop.example> wrote:\n> hi",
      ),
    ).toBe("Thanks!");
    expect(stripQuotedHistory("Sure\n-----Original Message-----\nFrom: Shop")).toBe("Sure");
    expect(
      stripQuotedHistory("Call me\n\nFrom: Shop <news@shop.example>\nSent: Monday\nSubject: x"),
    ).toBe("Call me");
  });

  it("keeps the full text when stripping would leave nothing", () => {
    expect(stripQuotedHistory("> only a quote\n> nothing new")).toBe(
      "> only a quote\n> nothing new",
    );
  });

  it("keeps a 'From:' line that does not open a header block", () => {
    expect(stripQuotedHistory("From: the shop, I got the parcel")).toBe(
      "From: the shop, I got the parcel",
    );
  });
});
