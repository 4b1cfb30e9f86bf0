import { describe, expect, it } from "vitest";
import { normalisePhone } from "./phone";

describe("normalisePhone", () => {
  it.each([
    ["98765 43210", "IN", "+919876543210", "IN"],
    ["0091-98765-43210", "IN", "+919876543210", "IN"],
    ["+91 (987) 654-3210", "IN", "+919876543210", "IN"],
    ["09876543210", "IN", "+919876543210", "IN"],
    ["+1 415 555 2671", "IN", "+14155552671", "US"],
    ["(415) 555-2671", "US", "+14155552671", "US"],
    ["+44 20 7946 0958", "IN", "+442079460958", "GB"],
  ])("%s with %s is %s", (input, country, e164, detected) => {
    expect(normalisePhone(input, country)).toEqual({ ok: true, e164, country: detected });
  });

  it.each(["", "   ", "12345", "hello", "+91 12", "98765 43210 98765 43210 98765 43210 98765"])(
    "refuses %j with a reason",
    (input) => {
      const result = normalisePhone(input, "IN");
      expect(result.ok).toBe(false);
      if (!result.ok) expect(result.reason.length).toBeGreaterThan(5);
    },
  );
});
