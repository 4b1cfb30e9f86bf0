import { describe, expect, it } from "vitest";
import { z } from "zod";
import { NotFoundError, RateLimitedError, ValidationError } from "./errors";
import { formFailure, readIntent, submitForm } from "./form.server";

function form(fields: Record<string, string>): FormData {
  const data = new FormData();
  for (const [k, v] of Object.entries(fields)) data.set(k, v);
  return data;
}

/** remix's data() is a plain object with the body and its init. */
type Reply = { data: Record<string, unknown>; init: { status: number; headers: Headers } };

const Name = z.object({ name: z.string({ error: "Enter a name." }) });

describe("one form failure path", () => {
  it("answers a rate limit with 429 and Retry-After, from submitForm and formFailure alike", async () => {
    const limited = new RateLimitedError(42);
    const viaSubmit = (await submitForm(form({ name: "x" }), Name, () => {
      throw limited;
    })) as unknown as Reply;
    const viaFailure = formFailure(limited) as unknown as Reply;
    for (const reply of [viaSubmit, viaFailure]) {
      expect(reply.init.status).toBe(429);
      expect(new Headers(reply.init.headers).get("Retry-After")).toBe("42");
      expect(reply.data.error).toEqual({ "": [limited.message] });
    }
  });

  it("puts field errors on their fields, keeps what was typed, and sends extra beside them", async () => {
    const reply = (await submitForm(
      form({ name: "Neha" }),
      Name,
      () => {
        throw new ValidationError("Taken.", { name: ["Taken."] });
      },
      { extra: (error) => (error ? { seen: error.message } : undefined) },
    )) as unknown as Reply;
    expect(reply.init.status).toBe(400);
    expect(reply.data.error).toEqual({ name: ["Taken."] });
    expect(reply.data.initialValue).toEqual({ name: "Neha" });
    expect(reply.data.extra).toEqual({ seen: "Taken." });
  });

  it("leaves not-found and unknown errors to the page", async () => {
    expect(() => formFailure(new NotFoundError("contact", 1))).toThrow(NotFoundError);
    expect(() => formFailure(new Error("boom"))).toThrow("boom");
  });
});

describe("readIntent", () => {
  const NEEDS = { add: "contacts:write", remove: "contacts:write" } as const;

  it("returns a known intent", () => {
    expect(readIntent(form({ intent: "remove" }), NEEDS)).toBe("remove");
  });

  it("refuses an unknown or missing intent with a 400 and a clear message", () => {
    const cases: Record<string, string>[] = [{ intent: "drop-table" }, {}];
    for (const fields of cases) {
      try {
        readIntent(form(fields), NEEDS);
        expect.unreachable();
      } catch (thrown) {
        const reply = thrown as Reply;
        expect(reply.init.status).toBe(400);
        expect(reply.data.message).toBe("This form asked for something the page does not do.");
      }
    }
  });
});
