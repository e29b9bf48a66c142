// AES-256-GCM sealing of entry values. Layout: 12-byte IV | 16-byte tag | ciphertext.
// The mesh and key are the associated data, so a ciphertext moved to another entry fails.
import { createCipheriv, createDecipheriv, randomBytes } from 'node:crypto';

export const KEY_BYTES = 32;
const IV_BYTES = 12;
const TAG_BYTES = 16;

/** Bytes sealing adds to a value. */
export const SEAL_OVERHEAD = IV_BYTES + TAG_BYTES;

function associatedData(mesh: string, key: string): Buffer {
  // Length-prefixed so that ("a", "bc") and ("ab", "c") differ.
  const meshBytes = Buffer.from(mesh, 'utf8');
  const keyBytes = Buffer.from(key, 'utf8');
  const length = Buffer.alloc(4);
  length.writeUInt32BE(meshBytes.length);
  return Buffer.concat([length, meshBytes, keyBytes]);
}

function checkKey(encryptionKey: Buffer): void {
  if (encryptionKey.length !== KEY_BYTES) throw new Error(`encryption key must be ${KEY_BYTES} bytes, got ${encryptionKey.length}`);
}

/** Encrypts a value for one entry with a fresh random IV. */
export function seal(encryptionKey: Buffer, mesh: string, key: string, plaintext: Buffer): Buffer {
  checkKey(encryptionKey);
  const iv = randomBytes(IV_BYTES);
  const cipher = createCipheriv('aes-256-gcm', encryptionKey, iv, { authTagLength: TAG_BYTES });
  cipher.setAAD(associatedData(mesh, key));
  const body = Buffer.concat([cipher.update(plaintext), cipher.final()]);
  return Buffer.concat([iv, cipher.getAuthTag(), body]);
}

/** Decrypts a sealed value; throws when it was tampered with or sealed for another entry. */
export function open(encryptionKey: Buffer, mesh: string, key: string, sealed: Buffer): Buffer {
  checkKey(encryptionKey);
  if (sealed.length < SEAL_OVERHEAD) throw new Error('sealed value is truncated');
  const decipher = createDecipheriv('aes-256-gcm', encryptionKey, sealed.subarray(0, IV_BYTES), { authTagLength: TAG_BYTES });
  decipher.setAAD(associatedData(mesh, key));
  decipher.setAuthTag(sealed.subarray(IV_BYTES, SEAL_OVERHEAD));
  return Buffer.concat([decipher.update(sealed.subarray(SEAL_OVERHEAD)), decipher.final()]);
}
