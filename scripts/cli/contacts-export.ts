import { exportContactsToFile, scopeByName } from "~/domain/contacts/contact-export.server";
import { cliContext } from "~/domain/context";
import { openWorkspaceContext } from "~/domain/workspaces/access.server";
import { findWorkspaceBySlug } from "~/domain/workspaces/workspaces.server";
import { ValidationError } from "~/lib/errors";
import { stringOption, UsageError, type Command } from "./command";

/**
 * `contacts export --workspace SLUG --out F [--list NAME | --segment NAME]`: writes the
 * workspace's contacts (all, one list or one saved segment, names matched ignoring case) to F
 * as the same CSV the dashboard produces, and prints {"rows":N,"file":F}. Audited as
 * contacts.exported by the operator.
 */
export const contactsExportCommands: Command[] = [
  {
    path: ["contacts", "export"],
    summary: "Export a workspace's contacts (all, a list or a segment) to a CSV file",
    options: {
      workspace: { type: "string" },
      out: { type: "string" },
      list: { type: "string" },
      segment: { type: "string" },
    },
    required: ["workspace", "out"],
    run(args, io) {
      const slug = stringOption(args, "workspace");
      const out = stringOption(args, "out");
      const list = args.values.list;
      const segment = args.values.segment;
      if (list !== undefined && segment !== undefined) {
        throw new UsageError("give --list or --segment, not both");
      }
      const workspace = findWorkspaceBySlug(slug);
      if (!workspace || workspace.status === "deleted") {
        throw new ValidationError(`--workspace: no workspace has the address "${slug}"`);
      }
      const system = cliContext();
      const ctx = openWorkspaceContext(workspace.id, system.actor, {}, system.now);
      const scope = scopeByName(ctx, {
        list: typeof list === "string" ? list : undefined,
        segment: typeof segment === "string" ? segment : undefined,
      });
      const { rows } = exportContactsToFile(ctx, scope, out);
      io.print({ rows, file: out });
    },
  },
];
