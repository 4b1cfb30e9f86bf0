import { describe, expect, it } from "vitest";
import { NotFoundError } from "./errors";
import { parseId } from "./ids";

describe("parseId", () => {
  it("accepts a positive integer", () => {
    expect(parseId("12", "Campaign")).toBe(12);
    expect(parseId("999999999999999", "Campaign")).toBe(999_999_999_999_999);
  });

  it.each(["0", "-1", "1.5", "1e3", "x", "", " 1", "012", "9".repeat(20), null, undefined])(
    "refuses %j as not found, naming what was looked for",
    (value) => {
      let error: unknown;
      try {
        parseId(value, "Segment");
      } catch (caught) {
        error = caught;
      }
      expect(error).toBeInstanceOf(NotFoundError);
      expect((error as NotFoundError).status).toBe(404);
      expect((error as NotFoundError).message).toBe("Segment not found");
    },
  );
});
