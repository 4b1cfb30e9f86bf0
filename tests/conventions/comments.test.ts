import { readdirSync } from "node:fs";
import ts from "typescript";
import { describe, expect, it } from "vitest";
import { readSource, ROOT, sourceFiles } from "./source";

/**
 * Comments stand alone: a reader of this repository has neither the team's design notes nor
 * the issue tracker, so a comment says its reason in place or points to an ADR in
 * docs/decisions. (References to the privacy policy's sections are fine: it ships in content/.)
 */

const OUTSIDE_REFERENCE = [
  { name: "a design-note section", pattern: /\bDESIGN(\.md)?\s*§|\bDESIGN\.md\b/ },
  { name: "an issue number", pattern: /\bissues?\s+#?\d+/i },
];

/** Every comment of a TypeScript/JavaScript source, with its line. */
function commentsOf(file: string, text: string): { line: number; text: string }[] {
  const kind = file.endsWith(".tsx") ? ts.ScriptKind.TSX : ts.ScriptKind.TS;
  const source = ts.createSourceFile(file, text, ts.ScriptTarget.Latest, false, kind);
  const seen = new Set<number>();
  const comments: { line: number; text: string }[] = [];
  const collect = (ranges: ts.CommentRange[] | undefined) => {
    for (const range of ranges ?? []) {
      if (seen.has(range.pos)) continue;
      seen.add(range.pos);
      comments.push({
        line: source.getLineAndCharacterOfPosition(range.pos).line + 1,
        text: text.slice(range.pos, range.end),
      });
    }
  };
  // Tokens too, not only nodes: a JSX comment `{/* … */}` sits before a closing brace.
  const visit = (node: ts.Node) => {
    collect(ts.getLeadingCommentRanges(text, node.pos));
    collect(ts.getTrailingCommentRanges(text, node.end));
    for (const child of node.getChildren(source)) visit(child);
  };
  visit(source);
  return comments;
}

/** "file:line: comment" for each comment citing something a reader of the repo cannot open. */
function outsideReferences(files: readonly string[], read = readSource): string[] {
  const found: string[] = [];
  for (const file of files) {
    const text = read(file);
    // Parsing is the slow part: only a file whose text has such a citation anywhere is parsed.
    if (!OUTSIDE_REFERENCE.some(({ pattern }) => pattern.test(text))) continue;
    for (const comment of commentsOf(file, text)) {
      for (const { name, pattern } of OUTSIDE_REFERENCE) {
        if (pattern.test(comment.text)) {
          found.push(`${file}:${comment.line}: cites ${name}: ${comment.text.slice(0, 120)}`);
        }
      }
    }
  }
  return found;
}

const PROBE = `const a = 1; // see DESIGN §5
/* the retry rule of
   issue 12 */
const b = "DESIGN §5 and issue 12 in a string are not comments";
function c() {
  return <p>{/* issue #7 */}</p>;
}
`;

describe("comments", () => {
  it("cite no design-note section or issue number", () => {
    const files = [
      ...sourceFiles(["app", "scripts", "tests"], /\.(ts|tsx|js|mjs)$/),
      ...readdirSync(ROOT).filter((name) => /^(server\.ts|[a-z]+\.config\.(ts|js))$/.test(name)),
    ];
    expect(files.length).toBeGreaterThan(100);
    expect(outsideReferences(files)).toEqual([]);
  });

  it("nor do the README, the docs and the decision records", () => {
    const files = ["README.md", ...sourceFiles(["docs"], /\.md$/)];
    expect(files.length).toBeGreaterThan(10);
    const found = files.flatMap((file) =>
      readSource(file)
        .split("\n")
        .flatMap((line, i) =>
          OUTSIDE_REFERENCE.filter(({ pattern }) => pattern.test(line)).map(
            ({ name }) => `${file}:${i + 1}: cites ${name}: ${line}`,
          ),
        ),
    );
    expect(found).toEqual([]);
  });

  it("the check finds such a citation in line, block and JSX comments, and only there", () => {
    expect(outsideReferences(["probe.tsx"], () => PROBE)).toEqual([
      expect.stringMatching(/^probe\.tsx:1: cites a design-note section/),
      expect.stringMatching(/^probe\.tsx:2: cites an issue number/),
      expect.stringMatching(/^probe\.tsx:6: cites an issue number/),
    ]);
  });
});
