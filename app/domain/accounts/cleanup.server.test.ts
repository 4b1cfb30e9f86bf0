import { eq } from "drizzle-orm";
import { describe, expect, it } from "vitest";
import { getControlDb } from "~/db/control.server";
import { authTokens, sessions } from "~/db/schema/control";
import { createUserByOperator } from "../admin/admin.server";
import { cliContext } from "../context";
import { consumeAuthToken, issueAuthToken } from "./auth-tokens.server";
import { purgeExpiredAuthData } from "./cleanup.server";
import { createSession } from "./sessions.server";

const HOUR = 3_600_000;

describe("purgeExpiredAuthData", () => {
  it("removes ended sessions and old tokens, and keeps live ones", async () => {
    const t0 = new Date("2026-11-01T00:00:00Z");
    const user = await createUserByOperator(
      cliContext(() => t0),
      {
        email: "cleanup@example.com",
        password: "tidy lantern orchard river",
        name: "Cleanup Person",
      },
    );
    createSession(
      cliContext(() => t0),
      user.id,
    );
    createSession(
      cliContext(() => new Date(t0.getTime() + 20 * HOUR)),
      user.id,
    );
    const spent = issueAuthToken("verify_email", user.id, t0);
    consumeAuthToken("verify_email", spent, t0);
    issueAuthToken("reset_password", user.id, new Date(t0.getTime() + 20 * HOUR));

    const counts = purgeExpiredAuthData(new Date(t0.getTime() + 8 * 24 * HOUR));
    expect(counts.sessionsDeleted).toBe(2);
    expect(counts.tokensDeleted).toBe(2);

    const db = getControlDb();
    expect(db.select().from(sessions).where(eq(sessions.userId, user.id)).all()).toEqual([]);
    expect(db.select().from(authTokens).where(eq(authTokens.userId, user.id)).all()).toEqual([]);

    // Nothing live is touched.
    const now = new Date(t0.getTime() + 21 * HOUR);
    createSession(
      cliContext(() => now),
      user.id,
    );
    const token = issueAuthToken("verify_email", user.id, now);
    expect(purgeExpiredAuthData(now)).toMatchObject({ sessionsDeleted: 0, tokensDeleted: 0 });
    expect(db.select().from(sessions).where(eq(sessions.userId, user.id)).all()).toHaveLength(1);
    expect(consumeAuthToken("verify_email", token, now)).not.toBeNull();
  });
});
