/** A failed call to the Kubernetes API, with the HTTP status and the Status object's reason. */
export class ApiError extends Error {
  override readonly name = 'ApiError';
  constructor(
    readonly statusCode: number,
    readonly reason: string,
    message: string,
    readonly details?: unknown,
  ) {
    super(message);
  }
}

/** Marks an error that retrying cannot fix; the work queue drops the key instead of backing off. */
export class TerminalError extends Error {
  override readonly name = 'TerminalError';
}

export function getErrorMessage(error: unknown): string {
  if (error instanceof Error) return error.message;
  if (typeof error === 'string') return error;
  try {
    return JSON.stringify(error);
  } catch {
    return String(error);
  }
}

function statusOf(error: unknown): number | undefined {
  if (error instanceof ApiError) return error.statusCode;
  if (typeof error === 'object' && error !== null && 'statusCode' in error) {
    const code = (error).statusCode;
    return typeof code === 'number' ? code : undefined;
  }
  return undefined;
}

export const isNotFound = (error: unknown): boolean => statusOf(error) === 404;
export const isConflict = (error: unknown): boolean => statusOf(error) === 409 && !isAlreadyExists(error);
export const isAlreadyExists = (error: unknown): boolean =>
  error instanceof ApiError && error.statusCode === 409 && error.reason === 'AlreadyExists';
/** 410 Gone: the resourceVersion asked for has been compacted away; the caller must relist. */
export const isGone = (error: unknown): boolean => statusOf(error) === 410;
export const isTooManyRequests = (error: unknown): boolean => statusOf(error) === 429;
