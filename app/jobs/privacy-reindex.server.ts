import { hasSucceeded } from "~/domain/operations/job-runs.server";
import { reindexSubjects, repairSubjectIndex } from "~/domain/privacy/subject-reindex.server";
import { logger } from "~/lib/logger.server";
import { singleton } from "~/lib/singleton.server";
import { runJob } from "./runner.server";
import type { Job } from "./job";

interface Upkeep {
  /** Aborted on shutdown: a rebuild stops between batches (its marker stays, see repair). */
  controller: AbortController;
  running: Promise<void> | null;
}

const upkeep = singleton<Upkeep>("privacy-index-upkeep", () => ({
  controller: new AbortController(),
  running: null,
}));

/**
 * Rebuilds the privacy subject index from every workspace file. Writers keep it in step; the
 * monthly rebuild also clears entries a crash left for people no longer held.
 */
export const privacyReindex: Job = {
  name: "privacy-reindex",
  schedule: "43 4 1 * *",
  description: "Rebuild the privacy subject index from the workspace files, monthly",
  maxRunMs: 6 * 60 * 60 * 1000,
  async run() {
    const { workspaces, contacts, entries, failed } = await reindexSubjects({
      signal: upkeep.controller.signal,
    });
    return { workspaces, contacts, entries, failed };
  },
};

/**
 * At start, in the background: the first start of a release with the index builds it for the
 * contacts already there (recorded as a privacy-reindex run, so once); later starts rebuild
 * only workspaces a crash left marked.
 */
export function startPrivacyIndexUpkeep(): Promise<void> {
  if (upkeep.running) return upkeep.running;
  upkeep.controller = new AbortController();
  const signal = upkeep.controller.signal;
  const running = (async () => {
    if (!hasSucceeded(privacyReindex.name)) {
      await runJob(privacyReindex, "schedule");
      return;
    }
    const repaired = await repairSubjectIndex({ signal });
    if (repaired > 0) logger.info({ repaired }, "privacy index rebuilt for marked workspaces");
  })()
    .catch((error: unknown) => {
      logger.error({ err: error }, "privacy index upkeep at start failed");
    })
    .finally(() => {
      upkeep.running = null;
    });
  upkeep.running = running;
  return running;
}

export async function stopPrivacyIndexUpkeep(): Promise<void> {
  upkeep.controller.abort();
  await upkeep.running;
}
