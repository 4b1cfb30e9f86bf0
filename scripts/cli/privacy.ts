import { reindexSubjects } from "~/domain/privacy/subject-reindex.server";
import { findWorkspaceBySlug } from "~/domain/workspaces/workspaces.server";
import { privacyReindex } from "~/jobs/privacy-reindex.server";
import { runJob } from "~/jobs/runner.server";
import { ValidationError } from "~/lib/errors";
import { type Command } from "./command";

/**
 * `privacy reindex [--workspace SLUG]`: rebuilds the privacy subject index from the workspace
 * files. All workspaces: recorded as a privacy-reindex job run, prints its counts. One
 * workspace: prints {"workspace":SLUG,"contacts":N,"entries":N}.
 */
export const privacyCommands: Command[] = [
  {
    path: ["privacy", "reindex"],
    summary: "Rebuild the privacy subject index from the workspace files (all or one)",
    options: { workspace: { type: "string" } },
    async run(args, io) {
      const slug = args.values.workspace;
      if (typeof slug !== "string") {
        const result = await runJob(privacyReindex, "cli");
        io.print({ job: privacyReindex.name, ...result });
        return result.outcome === "ok" ? 0 : 1;
      }
      const workspace = findWorkspaceBySlug(slug);
      if (!workspace || workspace.status === "deleted") {
        throw new ValidationError(`--workspace: no workspace has the address "${slug}"`);
      }
      const result = await reindexSubjects({ workspaceId: workspace.id });
      io.print({ workspace: slug, contacts: result.contacts, entries: result.entries });
    },
  },
];
