/** Text gathered per pull before it is sent: a row at a time would be thousands of tiny writes. */
const PULL_BYTES = 16 * 1024;

/**
 * A CSV download streamed from an iterator of text chunks (rows or pages of rows), pulled as the
 * client reads, so a large export never sits whole in memory. The browser saves it as
 * `filename` and never renders it; stopping the download stops the iterator.
 */
export function csvDownload(chunks: Iterator<string>, filename: string): Response {
  const encoder = new TextEncoder();
  const body = new ReadableStream<Uint8Array>({
    pull(controller) {
      let text = "";
      while (text.length < PULL_BYTES) {
        const next = chunks.next();
        if (next.done) {
          if (text) controller.enqueue(encoder.encode(text));
          controller.close();
          return;
        }
        text += next.value;
      }
      controller.enqueue(encoder.encode(text));
    },
    cancel() {
      chunks.return?.();
    },
  });
  return new Response(body, {
    headers: {
      "Content-Type": "text/csv; charset=utf-8",
      "Content-Disposition": `attachment; filename="${filename}"`,
      "Cache-Control": "no-store",
      "X-Content-Type-Options": "nosniff",
    },
  });
}
