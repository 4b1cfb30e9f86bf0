import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { eq } from "drizzle-orm";
import { beforeAll, describe, expect, it } from "vitest";
import { getControlDb } from "~/db/control.server";
import { auditLog, policyVersions } from "~/db/schema/control";
import { listFileMailbox } from "~/emails/transport.server";
import { createVerifiedUser, type TestUser } from "../support/accounts";
import { runCli } from "../support/server";

/** `npm run engage -- policy publish`, against this test file's DATA_DIR. */

const DAY = 24 * 60 * 60 * 1000;
const daysFromToday = (n: number) => new Date(Date.now() + n * DAY).toISOString().slice(0, 10);
const env = () => ({ DATA_DIR: process.env.DATA_DIR! });

function policyFile(name: string, text: string): string {
  const path = join(process.env.DATA_DIR!, name);
  writeFileSync(path, text);
  return path;
}

const versionCount = () => getControlDb().select().from(policyVersions).all().length;

describe("npm run engage -- policy publish", () => {
  let people: TestUser[];
  let file: string;

  beforeAll(async () => {
    people = [await createVerifiedUser(), await createVerifiedUser()];
    file = policyFile("policy-v2.md", "# Privacy Policy\n\n## 1. Changes\n\nVersion two.\n");
  });

  it("refuses bad input with one clear line and exit code 2, storing nothing", async () => {
    const cases: [string[], RegExp][] = [
      [
        ["--file", file, "--effective", daysFromToday(13)],
        new RegExp(
          `^error: --effective: The effective date must be at least 14 days after today \\(${daysFromToday(0)}, UTC\\): ${daysFromToday(14)} or later\\.`,
        ),
      ],
      [
        ["--file", file, "--effective", "next week"],
        /^error: --effective: Enter the effective date as YYYY-MM-DD/,
      ],
      [
        ["--file", file, "--effective", "2031-02-29"],
        /^error: --effective: Enter the effective date/,
      ],
      [
        ["--file", join(process.env.DATA_DIR!, "missing.md"), "--effective", daysFromToday(20)],
        /^error: --file .*missing\.md: cannot read it \(ENOENT\)/,
      ],
      [
        ["--file", policyFile("empty.md", "  \n"), "--effective", daysFromToday(20)],
        /^error: --file: The policy text is empty/,
      ],
      [["--file", file], /^error: --effective is required$/],
      [["--effective", daysFromToday(20)], /^error: --file is required$/],
    ];
    for (const [args, message] of cases) {
      const result = await runCli(["policy", "publish", ...args], env());
      expect(result.code, args.join(" ")).toBe(2);
      expect(result.stderr.trim().split("\n"), args.join(" ")).toHaveLength(1);
      expect(result.stderr.trim()).toMatch(message);
    }
    expect(versionCount()).toBe(1);
  });

  it("publishes 14 days ahead, emails every active user and audits it", async () => {
    const effective = daysFromToday(14);
    const result = await runCli(
      ["policy", "publish", "--file", file, "--effective", effective],
      env(),
    );
    expect(result.stderr).toBe("");
    expect(result.code).toBe(0);
    expect(result.json).toEqual([
      { version: 2, effectiveDate: effective, notified: 2, failed: 0, unfinished: false },
    ]);
    const { items } = await listFileMailbox({ limit: 1000, offset: 0 });
    const notices = items.filter((m) => m.subject.startsWith("Our privacy policy changes on"));
    expect(notices.map((m) => m.to.toLowerCase()).sort()).toEqual(
      people.map((p) => p.email).sort(),
    );
    const audit = getControlDb()
      .select()
      .from(auditLog)
      .where(eq(auditLog.action, "policy.published"))
      .all();
    expect(audit).toHaveLength(1);
    expect(audit[0]).toMatchObject({ actorType: "cli", targetId: "2" });

    const list = await runCli(["policy", "list"], env());
    expect(list.json.map((v) => (v as { version: number }).version)).toEqual([2, 1]);
  });

  it("refuses a date that is not after the latest version's", async () => {
    const result = await runCli(
      ["policy", "publish", "--file", file, "--effective", daysFromToday(14)],
      env(),
    );
    expect(result.code).toBe(2);
    expect(result.stderr.trim()).toBe(
      `error: --effective: The effective date must be after ${daysFromToday(14)}, when version 2 takes effect.`,
    );
    expect(versionCount()).toBe(2);
  });
});
