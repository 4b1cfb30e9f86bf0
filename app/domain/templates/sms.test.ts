import { describe, expect, it } from "vitest";
import { checkDltTemplate, smsSegments } from "./sms";

describe("smsSegments", () => {
  it("GSM-7: 160 characters in one segment, 161 in two of 153", () => {
    expect(smsSegments("a".repeat(160))).toEqual({
      encoding: "GSM-7",
      characters: 160,
      segments: 1,
      perSegment: 160,
      unicodeCharacters: [],
    });
    expect(smsSegments("a".repeat(161))).toMatchObject({
      encoding: "GSM-7",
      characters: 161,
      segments: 2,
      perSegment: 153,
    });
    expect(smsSegments("a".repeat(306)).segments).toBe(2);
    expect(smsSegments("a".repeat(307)).segments).toBe(3);
    expect(smsSegments("")).toMatchObject({ characters: 0, segments: 0, perSegment: 160 });
  });

  it("counts extension characters (^{}\\[~]|€) twice", () => {
    expect(smsSegments("€")).toMatchObject({ encoding: "GSM-7", characters: 2, segments: 1 });
    expect(smsSegments("^{}\\[~]|€").characters).toBe(18);
    expect(smsSegments("a".repeat(158) + "€")).toMatchObject({ characters: 160, segments: 1 });
    expect(smsSegments("a".repeat(159) + "€")).toMatchObject({ characters: 161, segments: 2 });
    // The ESC pair is never split: 152 + € does not fit the first part's 153.
    expect(smsSegments("a".repeat(152) + "€" + "a".repeat(152)).segments).toBe(3);
    expect(smsSegments("Price: £5, é, Ä, ¿, @, ß").encoding).toBe("GSM-7");
  });

  it("one character outside GSM-7 switches to UCS-2: 70 in one segment, 71 in two of 67", () => {
    const hindi = "न";
    expect(smsSegments(hindi + "a".repeat(69))).toEqual({
      encoding: "UCS-2",
      characters: 70,
      segments: 1,
      perSegment: 70,
      unicodeCharacters: ["न"],
    });
    expect(smsSegments(hindi + "a".repeat(70))).toMatchObject({
      encoding: "UCS-2",
      characters: 71,
      segments: 2,
      perSegment: 67,
    });
    expect(smsSegments(hindi.repeat(134)).segments).toBe(2);
    expect(smsSegments(hindi.repeat(135)).segments).toBe(3);
    // Extension characters are one code unit in UCS-2.
    expect(smsSegments("न€").characters).toBe(2);
  });

  it("counts emoji as UTF-16 code units and never splits a surrogate pair", () => {
    expect(smsSegments("Hi 😀")).toMatchObject({
      encoding: "UCS-2",
      characters: 5,
      unicodeCharacters: ["😀"],
    });
    expect(smsSegments("😀".repeat(35)).segments).toBe(1);
    expect(smsSegments("a" + "😀".repeat(35)).segments).toBe(2);
    // 66 units then a pair: the pair moves to the second part.
    expect(smsSegments("a".repeat(66) + "😀" + "a".repeat(66)).segments).toBe(3);
    expect(smsSegments("“smart quotes”").encoding).toBe("UCS-2");
  });
});

describe("checkDltTemplate", () => {
  const registered = "Dear {#var#}, your order {#var#} is ready. Pick it up at {#var#}. - SHOPIN";

  it("matches variables and free text in {#var#} spots", () => {
    expect(
      checkDltTemplate(
        'Dear {{ first_name | default: "customer" }}, your order {{ order_id }} is ready. Pick it up at our Pune store. - SHOPIN',
        registered,
      ),
    ).toEqual({ ok: true });
    expect(
      checkDltTemplate("Dear , your order  is ready. Pick it up at . - SHOPIN", registered),
    ).toEqual({
      ok: true,
    });
    expect(checkDltTemplate("Your OTP is {#var#}", "Your OTP is {#VAR#}").ok).toBe(true);
    expect(checkDltTemplate("Line one\r\nLine {{ name }}", "Line one\nLine {#var#}").ok).toBe(true);
  });

  it("names the fixed part that differs", () => {
    const result = checkDltTemplate(
      "Dear {{ first_name }}, your order {{ order_id }} is ready to collect at {{ city }}. - SHOPIN",
      registered,
    );
    expect(result).toEqual({
      ok: false,
      reason:
        "The message differs from the registered text after “…ur order {#var#} is ready”: the registered text has “. Pick it up at {#var#}. - SHO…”, the message has “ to collect at {{ city }}. - S…”.",
    });
    expect(checkDltTemplate("Hello {{ name }}", "Dear {#var#}")).toEqual({
      ok: false,
      reason:
        "The message differs from the registered text at the start: the registered text has “Dear {#var#}”, the message has “Hello {{ name }}”.",
    });
  });

  it("refuses a variable outside a {#var#} spot", () => {
    const result = checkDltTemplate("Dear {{ name }}, code {{ code }}", "Dear {#var#}, code 1234");
    expect(result.ok).toBe(false);
    if (!result.ok) {
      expect(result.reason).toBe(
        "{{ code }} is where the registered text has “1234”; variables can only go where the registered text has {#var#}.",
      );
    }
  });

  it("allows at most 30 characters for a {#var#}", () => {
    expect(checkDltTemplate(`Hi ${"x".repeat(30)}, bye`, "Hi {#var#}, bye").ok).toBe(true);
    const result = checkDltTemplate(`Hi ${"x".repeat(31)}, bye`, "Hi {#var#}, bye");
    expect(result.ok).toBe(false);
    if (!result.ok) {
      expect(result.reason).toMatch(
        /^After the first \{#var#\}, the registered text continues with “, bye”, but the message does not have that within 30 characters of “Hi ”/,
      );
    }
    const last = checkDltTemplate(`Code: ${"9".repeat(31)}`, "Code: {#var#}");
    expect(last.ok).toBe(false);
    if (!last.ok)
      expect(last.reason).toMatch(/^The first \{#var#\} stands for at most 30 characters/);
  });

  it("reports extra or missing text at the end", () => {
    expect(checkDltTemplate("Hi {{ name }}, bye now", "Hi {#var#}, bye")).toEqual({
      ok: false,
      reason: "The message goes on after the end of the registered text: “ now”.",
    });
    const short = checkDltTemplate("Hi {{ name }}, by", "Hi {#var#}, bye");
    expect(short.ok).toBe(false);
    if (!short.ok)
      expect(short.reason).toMatch(/the registered text has “e”, the message has nothing/);
  });
});
