import { randomBytes } from "node:crypto";
import { issueAuthToken } from "~/domain/accounts/auth-tokens.server";
import { signUp, verifyEmail } from "~/domain/accounts/accounts.server";
import { findUserByEmail } from "~/domain/accounts/users.server";
import type { SystemContext } from "~/domain/context";
import { acceptInvitation, inviteMember } from "~/domain/workspaces/invitations.server";
import { createWorkspace, type Workspace } from "~/domain/workspaces/workspaces.server";
import { listFileMailbox, readFileMailboxMessage } from "~/emails/transport.server";
import type { Role } from "~/lib/roles";
import type { TestServer } from "./server";

/**
 * Accounts for route tests, made through the real domain functions in the test process.
 *
 * The test process and the server share one DATA_DIR (tests/setup/env.ts gives each test file
 * its own; pass it to startTestServer({ dataDir: process.env.DATA_DIR })), so what is seeded
 * here is what the server reads: SQLite in WAL mode with busy timeouts lets both processes use
 * the files at once. People then sign in through the real /login form.
 */

// vitest copies Vite's import.meta.env into process.env, and its BASE_URL="/" is not a URL. The
// server is started without BASE_URL, so this process must read the same default.
if (process.env.BASE_URL === "/") delete process.env.BASE_URL;

export interface TestUser {
  id: string;
  email: string;
  name: string;
  password: string;
}

let seeded = 0;

/**
 * A context for seeding. Each call gets its own documentation address (198.51.100.0/24), so
 * sign-up's per-IP abuse limit never trips however many people a test file creates.
 */
function seedContext(): SystemContext {
  seeded += 1;
  return {
    actor: { type: "system", id: "test-seed" },
    now: () => new Date(),
    request: { ip: `198.51.100.${seeded % 250}`, userAgent: "engage-test-seed" },
  };
}

function suffix(): string {
  return randomBytes(4).toString("hex");
}

/** Signs up through the domain and verifies the address with a real verification token. */
export async function createVerifiedUser(
  input: { email?: string; name?: string; password?: string } = {},
): Promise<TestUser> {
  const name = input.name ?? "Test Person";
  const email = (input.email ?? `person-${suffix()}@example.com`).toLowerCase();
  const password = input.password ?? `plum orbit saddle ${suffix()}`;
  const ctx = seedContext();
  await signUp(ctx, { name, email, password, ageConfirmed: true, policyAccepted: true });
  const user = findUserByEmail(email);
  if (!user) throw new Error(`sign-up did not create ${email}`);
  const token = issueAuthToken("verify_email", user.id, ctx.now());
  if (!verifyEmail(ctx, token)) throw new Error(`could not verify ${email}`);
  return { id: user.id, email, name, password };
}

/** A workspace owned by `owner`, with its own tenant database file. */
export function createWorkspaceFor(
  owner: TestUser,
  input: { slug?: string; name?: string; timezone?: string; country?: string } = {},
): Workspace {
  const slug = input.slug ?? `ws-${suffix()}`;
  return createWorkspace({ ...seedContext(), actor: { type: "user", id: owner.id } }, owner.id, {
    slug,
    name: input.name ?? `Workspace ${slug}`,
    country: input.country ?? "IN",
    timezone: input.timezone ?? "Asia/Kolkata",
    currency: "INR",
  });
}

/** The newest mail written to DATA_DIR/mail for `to` whose subject matches, or null. */
export async function findMail(
  to: string,
  subject: RegExp = /./,
): Promise<{ id: string; subject: string; text: string } | null> {
  const { items } = await listFileMailbox({ limit: 500, offset: 0 });
  const summary = items.find(
    (m) => m.to.toLowerCase().includes(to.toLowerCase()) && subject.test(m.subject),
  );
  if (!summary) return null;
  const message = await readFileMailboxMessage(summary.id);
  return message ? { id: message.id, subject: message.subject, text: message.text ?? "" } : null;
}

/**
 * Adds `member` to the workspace the way people join: the owner invites the address, and the
 * member accepts with the token from the invitation email.
 */
export async function addMember(
  workspace: Workspace,
  owner: TestUser,
  member: TestUser,
  role: Exclude<Role, "owner">,
): Promise<void> {
  const ctx = { ...seedContext(), actor: { type: "user" as const, id: owner.id } };
  await inviteMember({ ...ctx, role: "owner", userId: owner.id }, workspace.id, {
    email: member.email,
    role,
  });
  const mail = await findMail(member.email, /invited you/);
  const token = /\/invitations\/([A-Za-z0-9_%-]+)/.exec(mail?.text ?? "")?.[1];
  if (!token) throw new Error(`no invitation mail for ${member.email}`);
  acceptInvitation(
    { ...seedContext(), actor: { type: "user", id: member.id } },
    decodeURIComponent(token),
    member.id,
  );
}

/**
 * Signs in through the real /login form and returns the session cookie ("name=value") to send
 * back in a Cookie header. Throws with the page's answer when sign-in does not succeed.
 */
export async function signIn(
  server: TestServer,
  email: string,
  password: string,
  headers: Record<string, string> = {},
): Promise<string> {
  const res = await server.fetch("/login", {
    method: "POST",
    headers: {
      "content-type": "application/x-www-form-urlencoded",
      origin: server.url,
      ...headers,
    },
    body: new URLSearchParams({ email, password }).toString(),
  });
  const cookie = res.headers
    .getSetCookie()
    .map((c) => c.split(";")[0]!)
    .find((c) => /^(__Host-)?engage_session=./.test(c));
  if (res.status !== 302 || !cookie) {
    throw new Error(
      `sign-in as ${email} failed: ${res.status}\n${(await res.text()).slice(0, 500)}`,
    );
  }
  return cookie;
}

/** A signed-in browser without JavaScript: GETs, and form POSTs with a same-origin Origin. */
export interface Browser {
  cookie: string;
  get(path: string, headers?: Record<string, string>): Promise<Response>;
  post(
    path: string,
    fields: Record<string, string>,
    headers?: Record<string, string>,
  ): Promise<Response>;
}

export function browserFor(server: TestServer, cookie: string): Browser {
  return {
    cookie,
    get: (path, headers = {}) => server.fetch(path, { headers: { cookie, ...headers } }),
    post: (path, fields, headers = {}) =>
      server.fetch(path, {
        method: "POST",
        headers: {
          cookie,
          origin: server.url,
          "content-type": "application/x-www-form-urlencoded",
          ...headers,
        },
        body: new URLSearchParams(fields).toString(),
      }),
  };
}

/** Signs `user` in and returns their browser. */
export async function signedIn(
  server: TestServer,
  user: TestUser,
  headers: Record<string, string> = {},
): Promise<Browser> {
  return browserFor(server, await signIn(server, user.email, user.password, headers));
}
