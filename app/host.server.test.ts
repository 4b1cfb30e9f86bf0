import type { ServerBuild } from "@remix-run/node";
import { describe, expect, it } from "vitest";
import { ForbiddenError, NotFoundError, RateLimitedError, ValidationError } from "~/lib/errors";
import { host } from "./host.server";

function buildWith(loader: () => unknown, action?: () => unknown): ServerBuild {
  return {
    routes: { r: { id: "r", path: "x", module: { default: () => null, loader, action } } },
  } as unknown as ServerBuild;
}

async function thrownBy(fn: () => unknown) {
  try {
    await fn();
  } catch (error) {
    return error as { type?: string; data: Record<string, unknown>; init: ResponseInit };
  }
  throw new Error("did not throw");
}

describe("typed domain errors become 4xx responses", () => {
  it.each([
    [new NotFoundError("contact", 7), 404, "not_found"],
    [new ForbiddenError(), 403, "forbidden"],
    [
      new ValidationError("Bad input", { email: ["Enter a valid email"] }),
      400,
      "validation_failed",
    ],
  ])("%s -> %i", async (error, status, code) => {
    const wrapped = host.withAppErrorResponses(
      buildWith(() => {
        throw error;
      }),
    );
    const loader = wrapped.routes.r!.module.loader!;
    const thrown = await thrownBy(() => loader({} as never));
    expect(thrown.init.status).toBe(status);
    expect(thrown.data).toMatchObject({ code, message: error.message });
  });

  it("passes field errors and Retry-After through", async () => {
    const wrapped = host.withAppErrorResponses(
      buildWith(
        () => null,
        () => {
          throw new RateLimitedError(42);
        },
      ),
    );
    const thrown = await thrownBy(() => wrapped.routes.r!.module.action!({} as never));
    expect(thrown.init.status).toBe(429);
    expect(new Headers(thrown.init.headers).get("retry-after")).toBe("42");
  });

  it("leaves other errors and results alone", async () => {
    const boom = new Error("internal detail");
    const wrapped = host.withAppErrorResponses(
      buildWith(
        () => {
          throw boom;
        },
        () => ({ ok: true }),
      ),
    );
    await expect(wrapped.routes.r!.module.loader!({} as never)).rejects.toBe(boom);
    await expect(wrapped.routes.r!.module.action!({} as never)).resolves.toEqual({ ok: true });
  });
});
