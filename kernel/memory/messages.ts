// Message shapes of meshos.memory.v1 as @grpc/proto-loader hands them over with
// PROTO_LOADER_OPTIONS (camelCase, int64 as number, defaults filled). Written by hand to
// match proto/meshos/memory/v1/memory.proto; the round-trip tests catch a mismatch.

export interface PutRequest {
  mesh: string;
  key: string;
  value: Buffer;
  trustLevel: number;
  ttlSeconds: number;
}

export interface PutResponse {
  expiresAtUnixMs: number;
  evictedCount: number;
}

export interface GetRequest {
  mesh: string;
  key: string;
}

export interface GetResponse {
  value: Buffer;
  trustLevel: number;
  expiresAtUnixMs: number;
  updatedAtUnixMs: number;
  writer: string;
}

export interface DeleteRequest {
  mesh: string;
  key: string;
}

export interface DeleteResponse {
  deleted: boolean;
}

export interface ListRequest {
  mesh: string;
  prefix: string;
  pageSize: number;
  pageToken: string;
}

export interface EntryInfo {
  key: string;
  trustLevel: number;
  sizeBytes: number;
  expiresAtUnixMs: number;
  updatedAtUnixMs: number;
}

export interface ListResponse {
  entries: EntryInfo[];
  nextPageToken: string;
}
