import { describe, expect, it } from "vitest";
import { buildCopyPrompt, parseSuggestions, smsSegments } from "./copy-prompt.server";

describe("buildCopyPrompt", () => {
  const base = { brief: "Diwali sale, 20% off", tone: "Festive", workspaceName: "Chai Point" };

  it("states each channel's limit", () => {
    const limits = {
      whatsapp: "1,024 characters",
      sms: "160 characters",
      "email-subject": "60 characters",
      telegram: "4,096 characters",
      "email-body": "200 words",
    } as const;
    for (const [channel, limit] of Object.entries(limits)) {
      const { system } = buildCopyPrompt({
        ...base,
        language: "English",
        channel: channel as keyof typeof limits,
      });
      expect(system, channel).toContain(limit);
    }
    expect(buildCopyPrompt({ ...base, language: "Tamil", channel: "sms" }).system).toContain(
      "70 characters",
    );
  });

  it("asks for three versions split by ---, in the language and tone, for the workspace", () => {
    const p = buildCopyPrompt({ ...base, language: "Hinglish", channel: "whatsapp" });
    expect(p.system).toContain("exactly 3 different versions of a WhatsApp message");
    expect(p.system).toContain("a line containing exactly ---");
    expect(p.system).toContain("Language: Hinglish. Hinglish means Hindi written in Latin script");
    expect(p.system).toContain("Tone: Festive.");
    expect(p.system).toContain("Chai Point");
    expect(p.prompt).toBe("Brief:\nDiwali sale, 20% off");
    expect(p.maxTokens).toBeGreaterThan(1000);
  });
});

describe("parseSuggestions", () => {
  it("splits on --- lines and trims", () => {
    expect(parseSuggestions("One\n---\nTwo\n---\nThree\n", "whatsapp")).toEqual([
      "One",
      "Two",
      "Three",
    ]);
    expect(parseSuggestions("  One  \r\n---\r\nTwo\r\n -----  \r\nThree", "whatsapp")).toEqual([
      "One",
      "Two",
      "Three",
    ]);
  });

  it("keeps multi-paragraph versions whole", () => {
    const body = "Hi there,\n\nOur sale starts today.\n\nShop now.";
    expect(parseSuggestions(`${body}\n---\n${body}\n---\n${body}`, "email-body")).toEqual([
      body,
      body,
      body,
    ]);
  });

  it("accepts other separator lines and drops a preamble", () => {
    expect(parseSuggestions("Here are three versions:\n***\nA\n***\nB\n***\nC", "sms")).toEqual([
      "A",
      "B",
      "C",
    ]);
    expect(parseSuggestions("A\n—\nB\n___\nC", "telegram")).toEqual(["A", "B", "C"]);
  });

  it("falls back to numbered versions and strips labels and quotes", () => {
    const text = '1. "Big sale today"\n2. **Option 2:** Huge savings\n3) “Last chance”';
    expect(parseSuggestions(text, "whatsapp")).toEqual([
      "Big sale today",
      "Huge savings",
      "Last chance",
    ]);
    expect(
      parseSuggestions("Option 1:\nFirst\n\nOption 2:\nSecond\n\nOption 3:\nThird", "telegram"),
    ).toEqual(["First", "Second", "Third"]);
  });

  it("reads one subject per line and removes Subject: labels", () => {
    expect(
      parseSuggestions("Subject: Diwali deals inside\nYour 20% off\nLast day!", "email-subject"),
    ).toEqual(["Diwali deals inside", "Your 20% off", "Last day!"]);
  });

  it("does not split a single multi-line WhatsApp message into lines", () => {
    expect(parseSuggestions("Line one\nLine two", "whatsapp")).toEqual(["Line one\nLine two"]);
  });

  it("returns at most three, and none for an empty answer", () => {
    expect(parseSuggestions("a\n---\nb\n---\nc\n---\nd", "sms")).toEqual(["a", "b", "c"]);
    expect(parseSuggestions("  \n---\n ", "sms")).toEqual([]);
    expect(parseSuggestions("```\nA\n---\nB\n---\nC\n```", "whatsapp")).toEqual(["A", "B", "C"]);
  });
});

describe("smsSegments", () => {
  it("counts GSM-7 and UCS-2 segments", () => {
    expect(smsSegments("a".repeat(160))).toEqual({ encoding: "GSM-7", segments: 1 });
    expect(smsSegments("a".repeat(161))).toEqual({ encoding: "GSM-7", segments: 2 });
    expect(smsSegments("€".repeat(80))).toEqual({ encoding: "GSM-7", segments: 1 });
    expect(smsSegments("€".repeat(81))).toEqual({ encoding: "GSM-7", segments: 2 });
    expect(smsSegments("दिवाली".repeat(11))).toEqual({ encoding: "UCS-2", segments: 1 });
    expect(smsSegments("Sale 🎉")).toEqual({ encoding: "UCS-2", segments: 1 });
    expect(smsSegments("x".repeat(71) + "🎉")).toEqual({ encoding: "UCS-2", segments: 2 });
  });
});
