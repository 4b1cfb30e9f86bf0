import { describe, expect, it } from "vitest";
import { buildRawMime, MimeError } from "./email-mime.server";

describe("buildRawMime threading headers", () => {
  const base = {
    from: "help@shop.example",
    to: "a@example.com",
    subject: "Re: x",
    text: "t",
    html: "",
  };

  it("writes In-Reply-To and References in angle brackets", async () => {
    const { raw } = await buildRawMime({ ...base, inReplyTo: "c@x", references: ["a@x", "c@x"] });
    const head = raw.toString("utf8").split("\r\n\r\n")[0]!;
    expect(head).toContain("In-Reply-To: <c@x>");
    expect(head).toContain("References: <a@x> <c@x>");
  });

  it("refuses an id that would inject a header, and the headers as extra headers", async () => {
    await expect(buildRawMime({ ...base, inReplyTo: "c@x>\r\nBcc: <e@x" })).rejects.toBeInstanceOf(
      MimeError,
    );
    await expect(buildRawMime({ ...base, references: ["a@x", "b@x> <c"] })).rejects.toBeInstanceOf(
      MimeError,
    );
    await expect(
      buildRawMime({ ...base, headers: { "In-Reply-To": "<c@x>" } }),
    ).rejects.toBeInstanceOf(MimeError);
  });
});
