import { readFileSync, statSync } from "node:fs";
import { cliContext } from "~/domain/context";
import {
  listPolicyVersions,
  POLICY_MAX_BYTES,
  PolicyPublishError,
  publishPolicy,
  sendPolicyNotices,
} from "~/domain/privacy/policy-versions.server";
import { stringOption, UsageError, type Command } from "./command";

/** Which flag each domain field came from, so a refusal names what to change. */
const FLAGS: Record<string, string> = { markdown: "--file", effectiveDate: "--effective" };

function readPolicyFile(path: string): string {
  let size: number;
  try {
    const stat = statSync(path);
    if (!stat.isFile()) throw new UsageError(`--file ${path}: not a file`);
    size = stat.size;
  } catch (error) {
    if (error instanceof UsageError) throw error;
    throw new UsageError(
      `--file ${path}: cannot read it (${(error as NodeJS.ErrnoException).code ?? "error"})`,
    );
  }
  if (size > POLICY_MAX_BYTES) {
    throw new UsageError(`--file ${path}: too large (at most ${POLICY_MAX_BYTES / 1000} KB)`);
  }
  return readFileSync(path, "utf8");
}

export const policyCommands: Command[] = [
  {
    path: ["policy", "publish"],
    summary:
      "Publish a new privacy policy version (Markdown) taking effect at least 14 days from today, then email every active user",
    options: { file: { type: "string" }, effective: { type: "string" } },
    required: ["file", "effective"],
    async run(args, io) {
      const markdown = readPolicyFile(stringOption(args, "file"));
      const effectiveDate = stringOption(args, "effective");
      const ctx = cliContext();
      let published;
      try {
        published = publishPolicy(ctx, { markdown, effectiveDate });
      } catch (error) {
        if (!(error instanceof PolicyPublishError)) throw error;
        const line = Object.entries(error.fieldErrors)
          .map(([field, messages]) => `${FLAGS[field] ?? field}: ${messages.join(" ")}`)
          .join("; ");
        throw new UsageError(line);
      }
      const notices = await sendPolicyNotices(ctx);
      io.print({
        version: published.version,
        effectiveDate: published.effectiveDate,
        notified: notices.sent,
        failed: notices.failed,
        // Another process (the server's job) may be sending; it finishes the rest.
        unfinished: notices.unfinished,
      });
    },
  },
  {
    path: ["policy", "list"],
    summary: "List privacy policy versions with their effective dates",
    run(_args, io) {
      for (const v of listPolicyVersions()) {
        io.print({
          version: v.version,
          effectiveDate: v.effectiveDate,
          publishedAt: v.publishedAt.toISOString(),
          notified: v.notified,
        });
      }
    },
  },
];
