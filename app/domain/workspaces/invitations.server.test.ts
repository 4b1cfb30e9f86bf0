import { eq } from "drizzle-orm";
import { beforeAll, describe, expect, it } from "vitest";
import { getControlDb } from "~/db/control.server";
import { invitations } from "~/db/schema/control";
import { type MailboxMessage } from "~/emails/transport.server";
import { ForbiddenError, NotFoundError, ValidationError } from "~/lib/errors";
import type { Role } from "~/lib/roles";
import { sha256Hex } from "~/lib/tokens";
import { signUp, verifyEmail } from "../accounts/accounts.server";
import { findUserByEmail, type User } from "../accounts/users.server";
import { createUserByOperator } from "../admin/admin.server";
import type { SystemContext } from "../context";
import {
  acceptInvitation,
  INVITATION_TTL_MS,
  inviteMember,
  listPendingInvitations,
  previewInvitation,
  revokeInvitation,
} from "./invitations.server";
import { createWorkspace, findMembership, type Workspace } from "./workspaces.server";
import { thrown, rejected } from "../../../tests/support/errors";
import { sendMailToFiles, mailTo } from "../../../tests/support/mailbox";

sendMailToFiles();

const SECOND = 1_000;
const DAY = 24 * 3_600_000;
const T0 = Date.parse("2030-06-01T10:00:00.000Z");
const at = (ms: number) => new Date(T0 + ms);
const PASSWORD = "plum orbit saddle 42";

let ipSeq = 0;
function ctxAt(when: Date, user?: User): SystemContext {
  ipSeq += 1;
  return {
    actor: user ? { type: "user", id: user.id } : { type: "cli" },
    now: () => when,
    request: { ip: `192.0.2.${ipSeq % 250}`, userAgent: "vitest" },
  };
}

function invitationToken(message: MailboxMessage | undefined): string {
  const match = /https:\/\/engage\.test\/invitations\/([A-Za-z0-9_%-]+)/.exec(message?.text ?? "");
  if (!match) throw new Error("no invitation link in the mail");
  return decodeURIComponent(match[1]!);
}

let owner: User;
let marketer: User;
let invitee: User;
let stranger: User;
let ws: Workspace;

/** The owner invites `email` at `when`; returns the token from the mail. */
async function invite(email: string, role: Exclude<Role, "owner">, when = at(0)) {
  const result = await inviteMember(
    { ...ctxAt(when, owner), role: "owner", userId: owner.id },
    ws.id,
    {
      email,
      role,
    },
  );
  expect(result).toEqual({ sent: true });
  const [mail] = await mailTo(email.trim().toLowerCase());
  return { mail: mail!, token: invitationToken(mail) };
}

beforeAll(async () => {
  const make = (name: string) =>
    createUserByOperator(ctxAt(at(0)), {
      name,
      email: `${name.toLowerCase()}@invitations.test`,
      password: PASSWORD,
    });
  [owner, marketer, stranger] = await Promise.all([
    make("Owner"),
    make("Marketer"),
    make("Stranger"),
    // The invitee signs up themselves and has not confirmed their address yet.
    signUp(ctxAt(at(0)), {
      name: "Invitee",
      email: "invitee@invitations.test",
      password: PASSWORD,
      ageConfirmed: true,
      policyAccepted: true,
    }),
  ]);
  invitee = findUserByEmail("invitee@invitations.test")!;
  ws = createWorkspace(ctxAt(at(0), owner), owner.id, {
    slug: "invite-co",
    name: "Invite Co",
    country: "IN",
    timezone: "Asia/Kolkata",
    currency: "INR",
  });
  const first = await invite(marketer.email, "marketer");
  acceptInvitation(ctxAt(at(0), marketer), first.token, marketer.id);
});

describe("inviteMember", () => {
  it("mails the invited address a link and records a pending invitation that expires in 7 days", async () => {
    const when = at(DAY);
    const { mail, token } = await invite("  Someone.New@Invitations.TEST ", "agent", when);
    expect(mail.subject).toBe("Owner invited you to Invite Co on Pleisys Engage");
    expect(mail.text).toContain("agent");

    expect(INVITATION_TTL_MS).toBe(7 * DAY);
    const pending = listPendingInvitations(ws.id, when).find(
      (i) => i.email === "someone.new@invitations.test",
    );
    expect(pending).toMatchObject({
      role: "agent",
      invitedBy: owner.id,
      createdAt: when,
      expiresAt: new Date(when.getTime() + 7 * DAY),
    });
    // Only the hash of the link's token is kept.
    expect(pending!.tokenHash).toBe(sha256Hex(token));
    expect(JSON.stringify(pending)).not.toContain(token);

    expect(previewInvitation(ctxAt(when), token)).toEqual({
      workspaceName: "Invite Co",
      workspaceSlug: "invite-co",
      email: "someone.new@invitations.test",
      role: "agent",
    });
    expect(previewInvitation(ctxAt(when), "no-such-token")).toBeNull();
  });

  it("refuses a role the inviter may not give", async () => {
    const asMarketer = {
      ...ctxAt(at(0), marketer),
      role: "marketer" as const,
      userId: marketer.id,
    };
    const asOwner = { ...ctxAt(at(0), owner), role: "owner" as const, userId: owner.id };
    for (const [ctx, role] of [
      [asMarketer, "viewer"],
      [asOwner, "owner"],
    ] as const) {
      const error = await rejected(inviteMember(ctx, ws.id, { email: "x@invitations.test", role }));
      expect(error).toBeInstanceOf(ValidationError);
      expect((error as ValidationError).fieldErrors.role).toBeDefined();
    }
    expect(await mailTo("x@invitations.test")).toHaveLength(0);
  });

  it("refuses to invite someone who is already a member", async () => {
    const error = await rejected(
      inviteMember({ ...ctxAt(at(0), owner), role: "owner", userId: owner.id }, ws.id, {
        email: marketer.email.toUpperCase(),
        role: "viewer",
      }),
    );
    expect(error).toBeInstanceOf(ValidationError);
    expect((error as ValidationError).fieldErrors.email).toBeDefined();
  });

  it("a new invitation to the same address replaces the old one", async () => {
    const old = await invite("twice@invitations.test", "viewer");
    const fresh = await invite("twice@invitations.test", "agent");
    expect(fresh.token).not.toBe(old.token);
    expect(previewInvitation(ctxAt(at(0)), old.token)).toBeNull();
    expect(previewInvitation(ctxAt(at(0)), fresh.token)?.role).toBe("agent");
    const pending = listPendingInvitations(ws.id, at(0)).filter(
      (i) => i.email === "twice@invitations.test",
    );
    expect(pending).toHaveLength(1);
  });
});

describe("acceptInvitation", () => {
  it("only the invited address, verified, can accept; then once only", async () => {
    const { token } = await invite(invitee.email, "viewer", at(0));

    // Someone else signed in with the forwarded link.
    const forwarded = thrown(() => acceptInvitation(ctxAt(at(0), stranger), token, stranger.id));
    expect(forwarded).toBeInstanceOf(ForbiddenError);
    expect(forwarded.message).toContain(invitee.email);
    expect(findMembership(ws.id, stranger.id)).toBeUndefined();

    // The invited address, but not confirmed yet.
    expect(thrown(() => acceptInvitation(ctxAt(at(0), invitee), token, invitee.id))).toBeInstanceOf(
      ForbiddenError,
    );
    expect(findMembership(ws.id, invitee.id)).toBeUndefined();

    // Once the address is confirmed, the same link works.
    const [verification] = await mailTo(invitee.email).then((m) =>
      m.filter((x) => /Confirm your email/.test(x.subject)),
    );
    const verifyToken = /verify-email\?token=([A-Za-z0-9_%-]+)/.exec(verification!.text!)![1]!;
    expect(verifyEmail(ctxAt(at(0)), decodeURIComponent(verifyToken))).toEqual({
      userId: invitee.id,
      returnTo: null,
    });
    expect(acceptInvitation(ctxAt(at(SECOND), invitee), token, invitee.id)).toEqual({
      slug: "invite-co",
    });
    expect(findMembership(ws.id, invitee.id)).toEqual({ role: "viewer" });

    // Single use.
    expect(
      thrown(() => acceptInvitation(ctxAt(at(SECOND), invitee), token, invitee.id)),
    ).toBeInstanceOf(NotFoundError);
    expect(previewInvitation(ctxAt(at(SECOND)), token)).toBeNull();
    const row = getControlDb()
      .select()
      .from(invitations)
      .where(eq(invitations.tokenHash, sha256Hex(token)))
      .get();
    expect(row?.acceptedAt).toEqual(at(SECOND));
  });

  it("expires 7 days after it was sent", async () => {
    const sent = at(2 * DAY);
    const { token } = await invite(stranger.email, "agent", sent);
    const expiry = sent.getTime() - T0 + 7 * DAY;
    expect(previewInvitation(ctxAt(at(expiry)), token)).toBeNull();
    expect(
      thrown(() => acceptInvitation(ctxAt(at(expiry), stranger), token, stranger.id)),
    ).toBeInstanceOf(NotFoundError);
    expect(findMembership(ws.id, stranger.id)).toBeUndefined();
    expect(listPendingInvitations(ws.id, at(expiry)).map((i) => i.email)).not.toContain(
      stranger.email,
    );

    // A second before, it still works.
    expect(acceptInvitation(ctxAt(at(expiry - SECOND), stranger), token, stranger.id)).toEqual({
      slug: "invite-co",
    });
    expect(findMembership(ws.id, stranger.id)).toEqual({ role: "agent" });
  });

  it("a revoked invitation cannot be accepted", async () => {
    const other = createWorkspace(ctxAt(at(0), owner), owner.id, {
      slug: "revoke-co",
      name: "Revoke Co",
      country: "IN",
      timezone: "UTC",
      currency: "INR",
    });
    const result = await inviteMember(
      { ...ctxAt(at(0), owner), role: "owner", userId: owner.id },
      other.id,
      { email: stranger.email, role: "viewer" },
    );
    expect(result.sent).toBe(true);
    const token = invitationToken((await mailTo(stranger.email))[0]);
    const pending = listPendingInvitations(other.id, at(0));
    expect(pending).toHaveLength(1);

    // Only from its own workspace.
    expect(
      thrown(() => revokeInvitation(ctxAt(at(0), owner), ws.id, pending[0]!.id)),
    ).toBeInstanceOf(NotFoundError);
    expect(previewInvitation(ctxAt(at(0)), token)).not.toBeNull();

    revokeInvitation(ctxAt(at(0), owner), other.id, pending[0]!.id);
    expect(listPendingInvitations(other.id, at(0))).toHaveLength(0);
    expect(previewInvitation(ctxAt(at(0)), token)).toBeNull();
    expect(
      thrown(() => acceptInvitation(ctxAt(at(0), stranger), token, stranger.id)),
    ).toBeInstanceOf(NotFoundError);
    expect(findMembership(other.id, stranger.id)).toBeUndefined();
    expect(
      thrown(() => revokeInvitation(ctxAt(at(0), owner), other.id, pending[0]!.id)),
    ).toBeInstanceOf(NotFoundError);
  });

  it("an unknown token is not found", () => {
    expect(
      thrown(() => acceptInvitation(ctxAt(at(0), stranger), "nope", stranger.id)),
    ).toBeInstanceOf(NotFoundError);
    expect(thrown(() => acceptInvitation(ctxAt(at(0), stranger), "", stranger.id))).toBeInstanceOf(
      NotFoundError,
    );
  });
});
