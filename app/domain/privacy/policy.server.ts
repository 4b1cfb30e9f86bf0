import { readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { APP_ROOT } from "~/lib/app-root.server";
import { plainText, type DocBlock } from "~/lib/safe-markdown";

export type PolicyBlock = DocBlock;

export interface PolicyDocument {
  title: string;
  /** As the text states it, e.g. "June 10, 2026". */
  effectiveDate: string;
  blocks: PolicyBlock[];
}

/** Version 1 ships with the product as plain text; later versions are published in Markdown. */
export const SHIPPED_POLICY = {
  version: 1,
  effectiveDate: "2026-06-10",
  file: "2026-06-10.txt",
} as const;

const cells = (line: string) =>
  line
    .trim()
    .replace(/^\||\|$/g, "")
    .split("|")
    .map((c) => plainText(c.trim()));

/** Turns the policy's plain-text layout (numbered headings, "- " lists, pipe tables) into blocks. */
export function parsePolicy(text: string): PolicyDocument {
  const lines = text.split(/\r?\n/).map((l) => l.trimEnd());
  const [title = "Privacy Policy", effective = ""] = lines;
  const blocks: PolicyBlock[] = [];
  for (const line of lines.slice(2)) {
    if (!line.trim()) continue;
    const last = blocks[blocks.length - 1];
    const heading = /^(\d+)(\.\d+)?\.? (.+)$/.exec(line);
    if (line.startsWith("- ")) {
      if (last?.kind === "list") last.items.push(plainText(line.slice(2)));
      else blocks.push({ kind: "list", ordered: false, items: [plainText(line.slice(2))] });
    } else if (line.startsWith("|")) {
      if (/^\|[\s|:-]+\|$/.test(line)) continue;
      if (last?.kind === "table") last.rows.push(cells(line));
      else blocks.push({ kind: "table", header: cells(line), rows: [] });
    } else if (heading && line.length < 80) {
      blocks.push({ kind: "heading", level: heading[2] ? 3 : 2, content: plainText(line) });
    } else {
      blocks.push({ kind: "paragraph", content: plainText(line) });
    }
  }
  return { title, effectiveDate: effective.replace(/^Effective date:\s*/i, ""), blocks };
}

/** The policy text shipped in content/privacy-policy (version 1), exactly as written. */
export function shippedPolicyText(): string {
  return readFileSync(join(APP_ROOT, "content", "privacy-policy", SHIPPED_POLICY.file), "utf8");
}

/**
 * Later versions that ship with the product: Markdown files in content/privacy-policy named by
 * the day they are meant to take effect (2026-12-21.md), oldest first. They are published at
 * start-up through the same path as any version (publishShippedPolicyVersions).
 */
export function shippedPolicyUpdates(): {
  file: string;
  effectiveDate: string;
  markdown: string;
}[] {
  const dir = join(APP_ROOT, "content", "privacy-policy");
  return readdirSync(dir)
    .filter((name) => /^\d{4}-\d{2}-\d{2}\.md$/.test(name))
    .sort()
    .map((file) => ({
      file,
      effectiveDate: file.slice(0, 10),
      markdown: readFileSync(join(dir, file), "utf8"),
    }));
}
