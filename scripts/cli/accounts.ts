import { createUserByOperator } from "~/domain/admin/admin.server";
import { findUserByEmail } from "~/domain/accounts/users.server";
import { cliContext } from "~/domain/context";
import { listAllowlist, replaceAllowlist } from "~/domain/workspaces/allowlist.server";
import {
  createWorkspace,
  findWorkspaceBySlug,
  setMembershipByOperator,
} from "~/domain/workspaces/workspaces.server";
import { ROLES, type Role } from "~/lib/roles";
import { emailSchema } from "~/lib/email-address";
import { ValidationError } from "~/lib/errors";
import { stringOption, type CommandArgs, type Command } from "./command";

const NAME_MAX = 100;

/** A valid address, normalised, or a ValidationError naming the flag. */
function emailOption(args: CommandArgs, flag: string): string {
  const parsed = emailSchema.safeParse(stringOption(args, flag));
  if (!parsed.success) {
    throw new ValidationError(`--${flag}: ${parsed.error.issues[0]?.message ?? "invalid"}`);
  }
  return parsed.data;
}

function nameOption(args: CommandArgs, flag: string, fallback?: string): string {
  const raw = args.values[flag];
  const name = (typeof raw === "string" ? raw : (fallback ?? "")).trim();
  if (!name) throw new ValidationError(`--${flag} must not be empty`);
  if (name.length > NAME_MAX) {
    throw new ValidationError(`--${flag}: use at most ${NAME_MAX} characters`);
  }
  return name;
}

function optional(args: CommandArgs, flag: string, fallback: string): string {
  const value = args.values[flag];
  return typeof value === "string" ? value : fallback;
}

/** What to add to a domain message that points at a list the web form shows. */
const WORKSPACE_HINTS: Record<string, string> = {
  country: "a two-letter ISO 3166 code, like IN or US",
  timezone: "an IANA time zone, like Asia/Kolkata or America/New_York",
};

/**
 * The domain reports workspace problems per form field ("Check the highlighted fields." plus
 * field errors); a terminal has no highlighted fields, so each becomes `--flag "value": message`.
 */
function asFlagProblems(error: unknown, given: Record<string, string>): unknown {
  if (!(error instanceof ValidationError)) return error;
  const fields = Object.entries(error.fieldErrors).filter(([, messages]) => messages.length);
  if (!fields.length) return error;
  const line = fields
    .map(([field, messages]) => {
      const value = field in given ? ` ${JSON.stringify(given[field])}` : "";
      const message = messages.join(" ");
      const hint = WORKSPACE_HINTS[field];
      return `--${field}${value}: ${hint ? `${message.replace(/\.$/, "")} (${hint}).` : message}`;
    })
    .join("; ");
  return new ValidationError(line, error.fieldErrors);
}

export const accountsCommands: Command[] = [
  {
    path: ["workspace", "allowlist-clear"],
    summary: "Empty a workspace's IP allowlist (recovers a workspace that locked itself out)",
    options: { slug: { type: "string" } },
    required: ["slug"],
    run(args, io) {
      const slug = stringOption(args, "slug");
      const workspace = findWorkspaceBySlug(slug);
      if (!workspace) throw new ValidationError(`--slug: no workspace has the address "${slug}"`);
      const removed = listAllowlist(workspace.id).length;
      replaceAllowlist(cliContext(), workspace.id, []);
      io.print({ slug, removed });
    },
  },
  {
    path: ["user", "create"],
    summary: "Create a verified user who can sign in with this email and password",
    options: {
      email: { type: "string" },
      password: { type: "string" },
      name: { type: "string" },
    },
    required: ["email", "password", "name"],
    async run(args, io) {
      const email = emailOption(args, "email");
      const name = nameOption(args, "name");
      const user = await createUserByOperator(cliContext(), {
        email,
        name,
        password: stringOption(args, "password"),
      });
      io.print({ id: user.id, email: user.email });
    },
  },
  {
    path: ["workspace", "create"],
    summary: "Create a workspace (and its database file) owned by an existing user",
    options: {
      owner: { type: "string" },
      name: { type: "string" },
      slug: { type: "string" },
      country: { type: "string" },
      timezone: { type: "string" },
      currency: { type: "string" },
    },
    required: ["owner", "name", "slug"],
    run(args, io) {
      const ownerEmail = emailOption(args, "owner");
      const owner = findUserByEmail(ownerEmail);
      if (!owner) {
        throw new ValidationError(
          `--owner: no user has the email ${ownerEmail}; create one first with "npm run engage -- user create"`,
        );
      }
      if (owner.status !== "active") {
        throw new ValidationError(`--owner: the account ${ownerEmail} is suspended`);
      }
      const input = {
        name: stringOption(args, "name"),
        slug: stringOption(args, "slug"),
        country: optional(args, "country", "IN"),
        timezone: optional(args, "timezone", "Asia/Kolkata"),
        currency: optional(args, "currency", "INR"),
      };
      let workspace;
      try {
        workspace = createWorkspace(cliContext(), owner.id, {
          ...input,
          currency: input.currency.trim().toUpperCase(),
        });
      } catch (error) {
        throw asFlagProblems(error, input);
      }
      io.print({ id: workspace.id, slug: workspace.slug });
    },
  },
  {
    path: ["member", "add"],
    summary:
      "Give an existing user a role in a workspace (owner, admin, marketer, agent or viewer); changes the role of a member",
    options: {
      workspace: { type: "string" },
      email: { type: "string" },
      role: { type: "string" },
    },
    required: ["workspace", "email", "role"],
    run(args, io) {
      const slug = stringOption(args, "workspace");
      const role = stringOption(args, "role");
      if (!(ROLES as readonly string[]).includes(role)) {
        throw new ValidationError(`--role "${role}": use one of ${ROLES.join(", ")}`);
      }
      const workspace = findWorkspaceBySlug(slug);
      if (!workspace || workspace.status === "deleted") {
        throw new ValidationError(`--workspace: no workspace has the address "${slug}"`);
      }
      const email = emailOption(args, "email");
      const user = findUserByEmail(email);
      if (!user) {
        throw new ValidationError(
          `--email: no user has the email ${email}; create one first with "npm run engage -- user create"`,
        );
      }
      const result = setMembershipByOperator(cliContext(), workspace.id, user.id, role as Role);
      io.print({ userId: result.userId, role: result.role });
    },
  },
  {
    path: ["admin", "create"],
    summary: "Create a platform admin, or make an existing user one and reset their password",
    options: {
      email: { type: "string" },
      password: { type: "string" },
      name: { type: "string" },
    },
    required: ["email", "password"],
    async run(args, io) {
      const email = emailOption(args, "email");
      const existing = findUserByEmail(email);
      const name = nameOption(args, "name", existing?.name ?? "Platform admin");
      const user = await createUserByOperator(cliContext(), {
        email,
        name,
        password: stringOption(args, "password"),
        platformAdmin: true,
      });
      io.print({ id: user.id, email: user.email, created: !existing });
    },
  },
];
