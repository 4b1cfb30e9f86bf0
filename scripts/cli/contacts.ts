import { createReadStream, statSync } from "node:fs";
import { basename, resolve } from "node:path";
import { listAttributeDefinitions } from "~/domain/contacts/attributes.server";
import { guessMapping } from "~/domain/contacts/import/csv-format.server";
import {
  cancelImport,
  startImport,
  waitForImport,
} from "~/domain/contacts/import/supervisor.server";
import { createImport } from "~/domain/contacts/import/uploads.server";
import { setMapping } from "~/domain/contacts/import/mapping.server";
import { ON_EXISTING } from "~/domain/contacts/import/record-batches.server";
import { cliContext } from "~/domain/context";
import { openWorkspaceContext } from "~/domain/workspaces/access.server";
import { findWorkspaceBySlug } from "~/domain/workspaces/workspaces.server";
import { ValidationError } from "~/lib/errors";
import { stringOption, UsageError, type Command } from "./command";

/**
 * `contacts import --workspace SLUG --file F [--consent email,whatsapp,sms,telegram
 * --consent-source TEXT] [--on-existing update|skip|create]`: the dashboard's import, run from a
 * shell. The file is copied into DATA_DIR/uploads like an upload, the mapping is guessed from the
 * headers, and the same two worker threads import it. Prints
 * {"imported":…,"updated":…,"skipped":…,"suppressed":…,"errors":…}. Rejected rows are not a
 * failure (exit 0; the dashboard lists them); a file that can't be read is (exit 1).
 */
export const contactsImportCommands: Command[] = [
  {
    path: ["contacts", "import"],
    summary: "Import contacts from a CSV file into a workspace (mapping guessed from headers)",
    options: {
      workspace: { type: "string" },
      file: { type: "string" },
      consent: { type: "string" },
      "consent-source": { type: "string" },
      "on-existing": { type: "string" },
    },
    required: ["workspace", "file"],
    async run(args, io) {
      const slug = stringOption(args, "workspace");
      const file = resolve(stringOption(args, "file"));
      const onExisting = (args.values["on-existing"] as string | undefined) ?? "update";
      if (!(ON_EXISTING as readonly string[]).includes(onExisting)) {
        throw new UsageError(`--on-existing must be one of ${ON_EXISTING.join(", ")}`);
      }
      const consent = ((args.values.consent as string | undefined) ?? "")
        .split(",")
        .map((c) => c.trim())
        .filter(Boolean);
      const source = args.values["consent-source"] as string | undefined;
      if (consent.length > 0 && !source?.trim()) {
        throw new UsageError(
          '--consent needs --consent-source, e.g. --consent-source "signed up on website form"',
        );
      }

      const workspace = findWorkspaceBySlug(slug);
      if (!workspace || workspace.status === "deleted") {
        throw new ValidationError(`--workspace: no workspace has the address "${slug}"`);
      }
      let size: number;
      try {
        const stat = statSync(file);
        if (!stat.isFile()) throw new Error("not a file");
        size = stat.size;
      } catch {
        throw new ValidationError(`--file: cannot read ${file}`);
      }
      if (size === 0) throw new ValidationError(`--file: ${file} is empty`);

      const system = cliContext();
      const ctx = openWorkspaceContext(workspace.id, system.actor, {}, system.now);
      const { import: created } = await createImport(ctx, {
        fileName: basename(file),
        data: createReadStream(file),
      });
      try {
        const mapping = guessMapping(created.format?.headers ?? [], listAttributeDefinitions(ctx));
        setMapping(ctx, created.id, {
          mapping,
          onExisting,
          consentChannels: consent,
          consentSource: source ?? null,
        });
        startImport(ctx, created.id);
      } catch (error) {
        cancelImport(ctx, created.id);
        throw error;
      }
      const summary = await waitForImport(workspace.id, created.id);
      const c = summary.counts;
      io.print({
        imported: c.imported,
        updated: c.updated,
        skipped: c.skipped,
        suppressed: c.suppressed,
        errors: c.errors,
        warnings: c.warnings,
      });
      if (summary.status === "failed") {
        io.error(`error: ${summary.error ?? "the import stopped"}`);
        return 1;
      }
      return 0;
    },
  },
  // `contacts export` lives in ./contacts-export.ts (contactsExportCommands); registered beside
  // this file's commands in scripts/cli/main.ts.
];
