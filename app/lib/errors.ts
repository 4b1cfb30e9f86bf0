/**
 * Typed errors thrown by domain code and mapped to HTTP statuses by routes and the host.
 * Messages are safe to show to the user; nothing internal goes into them.
 */
export class AppError extends Error {
  readonly status: number;
  readonly code: string;
  constructor(message: string, status: number, code: string) {
    super(message);
    this.name = new.target.name;
    this.status = status;
    this.code = code;
  }
}

export type FieldErrors = Record<string, string[]>;

export class ValidationError extends AppError {
  readonly fieldErrors: FieldErrors;
  constructor(message: string, fieldErrors: FieldErrors = {}) {
    super(message, 400, "validation_failed");
    this.fieldErrors = fieldErrors;
  }
}

/**
 * A ValidationError from schema issues (zod's shape): each message under its top-level field
 * ("form" for the whole input), the first one as the message.
 */
export function validationErrorFromIssues(
  issues: readonly { path: readonly PropertyKey[]; message: string }[],
  fallback = "Check the highlighted fields.",
): ValidationError {
  const fieldErrors: FieldErrors = {};
  for (const issue of issues) {
    (fieldErrors[String(issue.path[0] ?? "form")] ??= []).push(issue.message);
  }
  return new ValidationError(issues[0]?.message ?? fallback, fieldErrors);
}

export class NotFoundError extends AppError {
  constructor(what: string, id?: string | number) {
    super(id === undefined ? `${what} not found` : `${what} ${id} not found`, 404, "not_found");
  }
}

export class ForbiddenError extends AppError {
  constructor(message = "You do not have permission to do this.") {
    super(message, 403, "forbidden");
  }
}

export class ConflictError extends AppError {
  constructor(message: string) {
    super(message, 409, "conflict");
  }
}

export class RateLimitedError extends AppError {
  readonly retryAfterSeconds: number;
  constructor(retryAfterSeconds: number, message = "Too many attempts. Try again later.") {
    super(message, 429, "rate_limited");
    this.retryAfterSeconds = retryAfterSeconds;
  }
}

export function isAppError(error: unknown): error is AppError {
  return error instanceof AppError;
}
