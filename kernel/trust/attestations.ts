// Signed attestations: statements by other agents or meshes about an Agent. One counts towards
// trust only when its Ed25519 signature verifies with a key the Mesh lists for its issuer
// (spec.trust.attestationIssuers), and only for the Agent it names.
import { createPublicKey, sign, verify, type KeyObject } from 'node:crypto';
import type { Mesh } from '../../crds/types.js';

export interface AttestationStatement {
  issuer: string;
  /** `namespace/name` of the Agent the statement is about. */
  subject: string;
  positive: boolean;
  weight?: number;
  /** RFC 3339. */
  at?: string;
  certification?: string;
}

export type AttestationKeys = ReadonlyMap<string, readonly KeyObject[]>;

/** The bytes an issuer signs: a versioned, field-ordered encoding, so equal statements sign equally. */
export function attestationPayload(statement: AttestationStatement): Buffer {
  const fields = [statement.issuer, statement.subject, statement.positive, statement.weight ?? 1, statement.at ?? null, statement.certification ?? null];
  return Buffer.from(`meshos-attestation:v1\n${JSON.stringify(fields)}`, 'utf8');
}

/** Signs a statement (what an issuer does); returns the base64 signature to put beside it. */
export function signAttestation(statement: AttestationStatement, privateKey: KeyObject): string {
  return sign(null, attestationPayload(statement), privateKey).toString('base64');
}

const keyCache = new Map<string, AttestationKeys>();

/** The Mesh's issuer keys by DID; unparseable keys are left out. Cached per Mesh generation. */
export function attestationKeysOf(mesh: Mesh): AttestationKeys {
  const cacheKey = `${mesh.metadata.uid ?? mesh.metadata.name ?? ''}/${mesh.metadata.generation ?? 0}`;
  const cached = keyCache.get(cacheKey);
  if (cached) return cached;
  const keys = new Map<string, KeyObject[]>();
  for (const issuer of mesh.spec.trust?.attestationIssuers ?? []) {
    try {
      const key = createPublicKey(issuer.publicKey);
      if (key.asymmetricKeyType !== 'ed25519') continue;
      keys.set(issuer.did, [...(keys.get(issuer.did) ?? []), key]);
    } catch {
      // A malformed key verifies nothing; the schema's pattern catches most of them earlier.
    }
  }
  if (keyCache.size > 256) keyCache.delete(keyCache.keys().next().value as string);
  keyCache.set(cacheKey, keys);
  return keys;
}

/** True when `entry` is a statement about `subject` whose signature verifies with one of its issuer's keys. */
export function verifyAttestation(entry: Record<string, unknown>, subject: string, keys: AttestationKeys): boolean {
  const { issuer, positive, signature } = entry;
  if (typeof issuer !== 'string' || typeof positive !== 'boolean' || typeof signature !== 'string') return false;
  if (entry['subject'] !== subject) return false;
  const issuerKeys = keys.get(issuer);
  if (!issuerKeys || issuerKeys.length === 0) return false;
  const statement: AttestationStatement = { issuer, subject, positive };
  if (typeof entry['weight'] === 'number') statement.weight = entry['weight'];
  if (typeof entry['at'] === 'string') statement.at = entry['at'];
  if (typeof entry['certification'] === 'string') statement.certification = entry['certification'];
  const payload = attestationPayload(statement);
  const bytes = Buffer.from(signature, 'base64');
  return issuerKeys.some((key) => {
    try {
      return verify(null, payload, key, bytes);
    } catch {
      return false;
    }
  });
}
