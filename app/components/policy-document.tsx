import { Fragment } from "react";
import type { DocBlock, Inline } from "~/lib/safe-markdown";

/**
 * A policy's blocks (see lib/safe-markdown). Everything is rendered as React text, so whatever
 * the source contained (HTML included) reaches the page escaped; link targets were checked
 * when the blocks were parsed.
 */
export function PolicyBlocks({ blocks }: { blocks: DocBlock[] }) {
  return (
    <>
      {blocks.map((block, i) => (
        <Block key={i} block={block} />
      ))}
    </>
  );
}

function Block({ block }: { block: DocBlock }) {
  switch (block.kind) {
    case "heading": {
      const content = <InlineText content={block.content} />;
      if (block.level === 2) return <h2>{content}</h2>;
      if (block.level === 3) return <h3>{content}</h3>;
      return <h4>{content}</h4>;
    }
    case "paragraph":
      return (
        <p>
          <InlineText content={block.content} />
        </p>
      );
    case "list": {
      const items = block.items.map((item, i) => (
        <li key={i}>
          <InlineText content={item} />
        </li>
      ));
      return block.ordered ? <ol>{items}</ol> : <ul>{items}</ul>;
    }
    case "table":
      return <PolicyTable header={block.header} rows={block.rows} />;
  }
}

export function PolicyTable({ header, rows }: { header: Inline[][]; rows: Inline[][][] }) {
  return (
    <div className="table-scroll">
      <table className="table">
        <thead>
          <tr>
            {header.map((cell, i) => (
              <th key={i} scope="col">
                <InlineText content={cell} />
              </th>
            ))}
          </tr>
        </thead>
        <tbody>
          {rows.map((row, i) => (
            <tr key={i}>
              {row.map((cell, j) => (
                <td key={j}>
                  <InlineText content={cell} />
                </td>
              ))}
            </tr>
          ))}
        </tbody>
      </table>
    </div>
  );
}

function InlineText({ content }: { content: Inline[] }) {
  return (
    <>
      {content.map((part, i) => {
        switch (part.kind) {
          case "text":
            return <Fragment key={i}>{part.text}</Fragment>;
          case "strong":
            return <strong key={i}>{part.text}</strong>;
          case "em":
            return <em key={i}>{part.text}</em>;
          case "code":
            return <code key={i}>{part.text}</code>;
          case "link":
            return (
              <a key={i} href={part.href} rel="nofollow noopener">
                {part.text}
              </a>
            );
        }
      })}
    </>
  );
}
