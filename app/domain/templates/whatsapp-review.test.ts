import { describe, expect, it } from "vitest";
import type { TemplateComponent } from "~/channels/types";
import { reviewWhatsAppTemplate } from "./whatsapp-review";

const body = (text: string): TemplateComponent => ({ type: "BODY", text });
const review = (components: TemplateComponent[], name = "diwali_offer") =>
  reviewWhatsAppTemplate({ name, components });
const reason = (components: TemplateComponent[], name?: string) => {
  const verdict = review(components, name);
  return verdict.approved ? null : verdict.reason;
};

describe("the sandbox's review of Meta's template rules", () => {
  it("approves a template that keeps every rule: media header, variables, footer, buttons", () => {
    expect(
      review([
        {
          type: "HEADER",
          format: "IMAGE",
          example: { header_handle: ["https://cdn.example/a.jpg"] },
        },
        body("Hi {{1}}, your table for {{2}} is ready. See you soon!"),
        { type: "FOOTER", text: "Reply STOP to opt out" },
        {
          type: "BUTTONS",
          buttons: [
            { type: "QUICK_REPLY", text: "Yes" },
            { type: "URL", text: "Menu", url: "https://cafe.example/menu" },
            { type: "PHONE_NUMBER", text: "Call us", phone_number: "919876543210" },
          ],
        },
      ]),
    ).toEqual({ approved: true });
  });

  it("rejects variables with a gap, at the start or end, or side by side, saying which", () => {
    expect(reason([body("Hi {{1}}, code {{3}} today.")])).toMatch(/skip \{\{2\}\}/);
    expect(reason([body("{{1}}, your order shipped.")])).toMatch(/starts with a variable/);
    expect(reason([body("Your order shipped, {{1}}")])).toMatch(/ends with a variable/);
    expect(reason([body("Your order shipped, {{1}}.")])).toMatch(/ends with a variable/);
    expect(reason([body("Hi {{1}} {{2}} welcome back.")])).toBe(
      "The variables {{1}} and {{2}} sit next to each other; put words between them.",
    );
  });

  it("rejects texts over Meta's lengths", () => {
    expect(reason([body("a".repeat(1025))])).toMatch(/1025 characters long; .* at most 1024/);
    expect(reason([body("a".repeat(1024))])).toBeNull();
    expect(
      reason([{ type: "HEADER", format: "TEXT", text: "h".repeat(61) }, body("Hello")]),
    ).toMatch(/header is 61 characters/);
    expect(reason([body("Hello"), { type: "FOOTER", text: "f".repeat(61) }])).toMatch(/footer/);
  });

  it("rejects a media header without a sample, and unknown header kinds", () => {
    expect(reason([{ type: "HEADER", format: "VIDEO" }, body("Hello")])).toMatch(
      /video header has no sample/,
    );
    expect(reason([{ type: "HEADER", format: "LOCATION" }, body("Hello")])).toMatch(
      /not “location”/,
    );
  });

  it("rejects buttons that break the rules: http links, local numbers, too many", () => {
    const buttons = (list: Record<string, unknown>[]) => [
      body("Hello"),
      { type: "BUTTONS", buttons: list },
    ];
    expect(reason(buttons([{ type: "URL", text: "Menu", url: "http://cafe.example" }]))).toBe(
      "Button 1 (“Menu”) opens a web address that does not start with https://.",
    );
    expect(
      reason(buttons([{ type: "PHONE_NUMBER", text: "Call", phone_number: "09876" }])),
    ).toMatch(/international format/);
    expect(
      reason(
        buttons(Array.from({ length: 4 }, (_, i) => ({ type: "QUICK_REPLY", text: `R${i}` }))),
      ),
    ).toMatch(/4 quick-reply buttons/);
    expect(
      reason(
        buttons(Array.from({ length: 11 }, (_, i) => ({ type: "QUICK_REPLY", text: `R${i}` }))),
      ),
    ).toMatch(/11 buttons/);
    expect(reason(buttons([{ type: "QUICK_REPLY", text: "x".repeat(26) }]))).toMatch(
      /longer than 25/,
    );
  });

  it("rejects a name that is not lower-case letters, digits and underscores", () => {
    expect(reason([body("Hello")], "Diwali Offer")).toMatch(/lower-case/);
  });
});
