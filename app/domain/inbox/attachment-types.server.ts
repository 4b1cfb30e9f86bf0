import { unzipSync } from "fflate";
import { AppError } from "~/lib/errors";

/**
 * What a file is, read from its bytes (magic numbers), never from its name or the browser's
 * Content-Type. Pure, so the sniffing table is tested without a disk.
 */

export type AttachmentKind = "image" | "document";

export interface SniffedType {
  kind: AttachmentKind;
  mimeType: string;
  /** What people call it in messages ("a PNG image"). */
  label: string;
  /** Extensions a file of this type may carry (lower case, no dot). */
  extensions: readonly string[];
}

const MB = 1024 * 1024;
/** WhatsApp takes images up to 5 MB; documents up to 100 MB, but we keep them to 16 MB. */
export const ATTACHMENT_LIMITS: Record<AttachmentKind, number> = {
  image: 5 * MB,
  document: 16 * MB,
};
/** The largest file of any kind: uploads are refused beyond this before being read. */
export const MAX_ATTACHMENT_BYTES = Math.max(...Object.values(ATTACHMENT_LIMITS));

export const ACCEPTED_TYPES_TEXT =
  "a JPEG, PNG or WEBP image, a PDF, a Word, Excel or PowerPoint file, or a plain text file";

const JPEG: SniffedType = {
  kind: "image",
  mimeType: "image/jpeg",
  label: "a JPEG image",
  extensions: ["jpg", "jpeg", "jpe", "jfif"],
};
const PNG: SniffedType = {
  kind: "image",
  mimeType: "image/png",
  label: "a PNG image",
  extensions: ["png"],
};
const WEBP: SniffedType = {
  kind: "image",
  mimeType: "image/webp",
  label: "a WEBP image",
  extensions: ["webp"],
};
const PDF: SniffedType = {
  kind: "document",
  mimeType: "application/pdf",
  label: "a PDF",
  extensions: ["pdf"],
};
const DOCX: SniffedType = {
  kind: "document",
  mimeType: "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
  label: "a Word document",
  extensions: ["docx"],
};
const XLSX: SniffedType = {
  kind: "document",
  mimeType: "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
  label: "an Excel spreadsheet",
  extensions: ["xlsx"],
};
const PPTX: SniffedType = {
  kind: "document",
  mimeType: "application/vnd.openxmlformats-officedocument.presentationml.presentation",
  label: "a PowerPoint presentation",
  extensions: ["pptx"],
};
const TEXT: SniffedType = {
  kind: "document",
  mimeType: "text/plain",
  label: "a plain text file",
  extensions: ["txt", "text", "csv", "log", "md"],
};

export const SNIFFED_TYPES: readonly SniffedType[] = [JPEG, PNG, WEBP, PDF, DOCX, XLSX, PPTX, TEXT];

/** A file we refuse to keep: its type, its size, or a name that lies about it. */
export class AttachmentRefusedError extends AppError {
  constructor(message: string, status: 400 | 413 | 415 = 400) {
    super(message, status, "attachment_refused");
  }
}

function startsWith(bytes: Uint8Array, signature: readonly number[], offset = 0): boolean {
  if (bytes.length < offset + signature.length) return false;
  return signature.every((b, i) => bytes[offset + i] === b);
}

const ascii = (text: string) => [...text].map((c) => c.charCodeAt(0));

/** Which Office Open XML file a zip is, from its entry names; null for any other zip. */
function officeType(bytes: Uint8Array): SniffedType | null {
  const names: string[] = [];
  try {
    // The filter sees every entry's name and declines them all: nothing is inflated.
    unzipSync(bytes, {
      filter: (file) => {
        names.push(file.name);
        return false;
      },
    });
  } catch {
    return null;
  }
  if (!names.includes("[Content_Types].xml")) return null;
  if (names.some((n) => n.startsWith("word/"))) return DOCX;
  if (names.some((n) => n.startsWith("xl/"))) return XLSX;
  if (names.some((n) => n.startsWith("ppt/"))) return PPTX;
  return null;
}

/** UTF-8 text: decodes strictly, and has no control characters besides tab, newlines, form feed. */
function isPlainText(bytes: Uint8Array): boolean {
  let text: string;
  try {
    text = new TextDecoder("utf-8", { fatal: true }).decode(bytes);
  } catch {
    return false;
  }
  // eslint-disable-next-line no-control-regex
  return !/[\u0000-\u0008\u000b\u000e-\u001f\u007f]/.test(text);
}

/** The type the bytes show, or null when it is none we accept. */
export function sniffType(bytes: Uint8Array): SniffedType | null {
  if (startsWith(bytes, [0xff, 0xd8, 0xff])) return JPEG;
  if (startsWith(bytes, [0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a])) return PNG;
  if (startsWith(bytes, ascii("RIFF")) && startsWith(bytes, ascii("WEBP"), 8)) return WEBP;
  if (startsWith(bytes, ascii("%PDF-"))) return PDF;
  if (startsWith(bytes, [0x50, 0x4b, 0x03, 0x04])) return officeType(bytes);
  if (isPlainText(bytes)) return TEXT;
  return null;
}

/** A name safe to show and to send: no folders, no control characters, at most 120 characters. */
export function cleanFilename(name: string): string {
  const base = name.split(/[\\/]/).pop() ?? "";
  // eslint-disable-next-line no-control-regex
  const clean = base.replace(/[\u0000-\u001f\u007f"]/g, "").trim();
  return Array.from(clean).slice(-120).join("");
}

function extensionOf(name: string): string | null {
  const dot = name.lastIndexOf(".");
  return dot > 0 && dot < name.length - 1 ? name.slice(dot + 1).toLowerCase() : null;
}

function megabytes(bytes: number): string {
  return `${Math.round((bytes / MB) * 10) / 10} MB`;
}

/**
 * Checks a file before it is kept: not empty, a type we accept (from its bytes), a name whose
 * extension agrees with the bytes, and within the size limit of its kind. Throws
 * AttachmentRefusedError with a message meant for the person who chose the file.
 */
export function checkAttachment(
  filename: string,
  bytes: Uint8Array,
): SniffedType & { filename: string } {
  const name = cleanFilename(filename);
  const shown = name || "The file";
  if (bytes.length === 0) throw new AttachmentRefusedError(`“${shown}” is empty.`);
  if (bytes.length > MAX_ATTACHMENT_BYTES) {
    throw new AttachmentRefusedError(
      `“${shown}” is ${megabytes(bytes.length)}: attachments can be at most ${megabytes(MAX_ATTACHMENT_BYTES)} (images ${megabytes(ATTACHMENT_LIMITS.image)}).`,
      413,
    );
  }
  const type = sniffType(bytes);
  if (!type) {
    throw new AttachmentRefusedError(
      `“${shown}” cannot be attached: its contents are not ${ACCEPTED_TYPES_TEXT}.`,
      415,
    );
  }
  const extension = extensionOf(name);
  if (extension !== null && !type.extensions.includes(extension)) {
    throw new AttachmentRefusedError(
      `“${shown}” is named .${extension}, but its contents are ${type.label}. Choose the right file, or rename it to .${type.extensions[0]}.`,
      415,
    );
  }
  const limit = ATTACHMENT_LIMITS[type.kind];
  if (bytes.length > limit) {
    throw new AttachmentRefusedError(
      `“${shown}” is ${megabytes(bytes.length)}: ${type.kind === "image" ? "images" : "documents"} can be at most ${megabytes(limit)}.`,
      413,
    );
  }
  return { ...type, filename: name || `file.${type.extensions[0]}` };
}
