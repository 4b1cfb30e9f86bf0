import { readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";

/**
 * Test files use the one copy of each helper in tests/support instead of writing their own:
 * local copies drift (the page-text decoders had four variants, some missing `&lt;` or React's
 * `<!-- -->` separators), and a fix in one never reaches the others.
 */

const ROOT = process.cwd();

/** Helpers tests/support provides, and where. */
const SHARED: Record<string, string> = {
  textOf: "tests/support/html.ts",
  decodeHtml: "tests/support/html.ts",
  parseCsv: "tests/support/csv.ts",
  thrown: "tests/support/errors.ts",
  rejected: "tests/support/errors.ts",
  makeWorkspace: "tests/support/workspaces.ts",
  dispatchAll: "tests/support/delivery.ts",
  mailTo: "tests/support/mailbox.ts",
  sendMailToFiles: "tests/support/mailbox.ts",
  makeTeam: "tests/support/teams.ts",
  startServer: "tests/support/teams.ts",
  signInAll: "tests/support/teams.ts",
};

function testFiles(dir: string): string[] {
  const out: string[] = [];
  for (const entry of readdirSync(join(ROOT, dir), { withFileTypes: true })) {
    const path = `${dir}/${entry.name}`;
    if (entry.isDirectory()) {
      if (entry.name !== "node_modules") out.push(...testFiles(path));
    } else if (/\.(test|spec)\.tsx?$/.test(entry.name)) {
      out.push(path);
    }
  }
  return out;
}

const files = ["app", "tests", "scripts"].flatMap(testFiles).sort();

function lineOf(source: string, index: number): number {
  return source.slice(0, index).split("\n").length;
}

/** Every `file:line what` in the test files that matches. */
function findings(pattern: RegExp, what: (match: RegExpExecArray) => string | null): string[] {
  const found: string[] = [];
  for (const file of files) {
    const source = readFileSync(join(ROOT, file), "utf8");
    for (const match of source.matchAll(new RegExp(pattern.source, `${pattern.flags}g`))) {
      const said = what(match as RegExpExecArray);
      if (said) found.push(`${file}:${lineOf(source, match.index)} ${said}`);
    }
  }
  return found;
}

describe("test helpers live in tests/support", () => {
  it("reads the test files (the check below is not vacuous)", () => {
    expect(files.length).toBeGreaterThan(50);
    expect(files).toContain("tests/conventions/test-helpers.test.ts");
  });

  it("no test file defines its own copy of a shared helper", () => {
    const names = Object.keys(SHARED).join("|");
    const local = findings(
      // Functions at any depth; constants at the top level only, where a helper would sit (a
      // local `const rejected = rows.filter(...)` is a value, not a helper).
      new RegExp(
        `^(?:\\s*(?:export )?(?:async )?function\\s+|(?:export )?(?:const|let)\\s+)(${names})\\b`,
        "m",
      ),
      (m) => {
        const name = m[1]!;
        return `defines ${name}: import it from ${SHARED[name]}`;
      },
    );
    expect(local).toEqual([]);
  });

  it("no test file decodes HTML entities by hand", () => {
    const decoders = findings(/\.replace\(\/&(?:amp|quot|lt|gt|#x27|#39);/, () => {
      return "decodes HTML entities: use decodeHtml or textOf from tests/support/html.ts";
    });
    expect(decoders).toEqual([]);
  });

  it("route tests start the server on their DATA_DIR through startServer", () => {
    const direct = findings(/startTestServer\(\{\s*dataDir:\s*process\.env\.DATA_DIR/, () => {
      return "starts the server on DATA_DIR by hand: use startServer from tests/support/teams.ts";
    });
    expect(direct).toEqual([]);
  });

  it("domain tests make an owner and workspace through makeWorkspace", () => {
    const byHand = findings(
      /createUserByOperator\([\s\S]{0,400}?\bcreateWorkspace\(\s*\{[\s\S]{0,600}?\bopenWorkspaceContext\(/,
      () => "builds owner, workspace and context by hand: use tests/support/workspaces.ts",
    );
    expect(byHand).toEqual([]);
  });
});
