// Errors the discovery service answers with, mapped one-to-one to gRPC status codes.
import { status } from '@grpc/grpc-js';

export type DiscoveryErrorCode = 'INVALID_ARGUMENT' | 'NOT_FOUND' | 'PERMISSION_DENIED' | 'UNAUTHENTICATED' | 'RESOURCE_EXHAUSTED' | 'DEADLINE_EXCEEDED' | 'UNAVAILABLE';

export class DiscoveryError extends Error {
  override readonly name = 'DiscoveryError';
  constructor(
    readonly code: DiscoveryErrorCode,
    message: string,
  ) {
    super(message);
  }

  get grpcStatus(): status {
    return status[this.code];
  }
}

/** Bad input: the message names the field and the rule it broke. */
export function invalid(field: string, rule: string): DiscoveryError {
  return new DiscoveryError('INVALID_ARGUMENT', `${field}: ${rule}`);
}
