import { readFileSync } from "node:fs";
import { join } from "node:path";
import { APP_ROOT } from "~/lib/app-root.server";

export type PolicyBlock =
  | { kind: "heading"; level: 2 | 3; text: string }
  | { kind: "paragraph"; text: string }
  | { kind: "list"; items: string[] }
  | { kind: "table"; header: string[]; rows: string[][] };

export interface PolicyDocument {
  version: string;
  title: string;
  effectiveDate: string;
  blocks: PolicyBlock[];
}

/** The published policy; versions are files named by their effective date. */
export const CURRENT_POLICY_VERSION = "2026-06-10";

const cells = (line: string) =>
  line
    .trim()
    .replace(/^\||\|$/g, "")
    .split("|")
    .map((c) => c.trim());

/** Turns the policy's plain-text layout (numbered headings, "- " lists, pipe tables) into blocks. */
export function parsePolicy(version: string, text: string): PolicyDocument {
  const lines = text.split(/\r?\n/).map((l) => l.trimEnd());
  const [title = "Privacy Policy", effective = ""] = lines;
  const blocks: PolicyBlock[] = [];
  for (const line of lines.slice(2)) {
    if (!line.trim()) continue;
    const last = blocks[blocks.length - 1];
    const heading = /^(\d+)(\.\d+)?\.? (.+)$/.exec(line);
    if (line.startsWith("- ")) {
      if (last?.kind === "list") last.items.push(line.slice(2));
      else blocks.push({ kind: "list", items: [line.slice(2)] });
    } else if (line.startsWith("|")) {
      if (/^\|[\s|:-]+\|$/.test(line)) continue;
      if (last?.kind === "table") last.rows.push(cells(line));
      else blocks.push({ kind: "table", header: cells(line), rows: [] });
    } else if (heading && line.length < 80) {
      blocks.push({ kind: "heading", level: heading[2] ? 3 : 2, text: line });
    } else {
      blocks.push({ kind: "paragraph", text: line });
    }
  }
  return {
    version,
    title,
    effectiveDate: effective.replace(/^Effective date:\s*/i, ""),
    blocks,
  };
}

export function currentPolicy(): PolicyDocument {
  const path = join(APP_ROOT, "content", "privacy-policy", `${CURRENT_POLICY_VERSION}.txt`);
  return parsePolicy(CURRENT_POLICY_VERSION, readFileSync(path, "utf8"));
}
