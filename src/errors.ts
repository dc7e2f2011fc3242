// Operational failures: a small typed family that the entry point maps to an exit code and one line.

/**
 * - `unavailable`: a service cannot be reached or is not ready; worth retrying.
 * - `fenced`: a newer owner of the same transactional id took over; retrying cannot help.
 * - `rejected`: Kafka refused the request for good (authorization, invalid or oversized records).
 */
export type ErrorCode = "usage" | "config" | "unavailable" | "fenced" | "rejected" | "internal";

const exitCodes: Record<ErrorCode, number> = {
  usage: 2,
  config: 2,
  unavailable: 3,
  fenced: 3,
  rejected: 3,
  internal: 1,
};

export class StediError extends Error {
  readonly code: ErrorCode;
  readonly hint: string | undefined;
  get exitCode(): number {
    return exitCodes[this.code];
  }
  /** Whether the same work may succeed when tried again. */
  get retriable(): boolean {
    return this.code === "unavailable";
  }
  constructor(code: ErrorCode, message: string, options: { hint?: string; cause?: unknown } = {}) {
    super(message, { cause: options.cause });
    this.name = "StediError";
    this.code = code;
    this.hint = options.hint;
  }
}

export const configError = (message: string, hint?: string) => new StediError("config", message, { hint });

export const unavailableError = (message: string, options: { hint?: string; cause?: unknown } = {}) =>
  new StediError("unavailable", message, options);

/** The innermost message of an error chain, without stack: what a user can act on. */
export function describeCause(error: unknown): string {
  if (error instanceof Error) {
    const cause = (error as { cause?: unknown }).cause;
    return cause && cause !== error ? `${error.message} (${describeCause(cause)})` : error.message;
  }
  return String(error);
}
