import { randomBytes } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { open, seal, SEAL_OVERHEAD } from './crypto.js';

describe('seal / open', () => {
  const key = randomBytes(32);

  it('round-trips and never repeats an IV', () => {
    const plaintext = Buffer.from('the plan is in the cupboard');
    const first = seal(key, 'mesh-a', 'k', plaintext);
    const second = seal(key, 'mesh-a', 'k', plaintext);
    expect(first.length).toBe(plaintext.length + SEAL_OVERHEAD);
    expect(first.subarray(0, 12).equals(second.subarray(0, 12))).toBe(false);
    expect(first.includes(plaintext)).toBe(false);
    expect(open(key, 'mesh-a', 'k', first).toString()).toBe('the plan is in the cupboard');
  });

  it('fails for another entry, another key or a flipped bit', () => {
    const sealed = seal(key, 'mesh-a', 'k', Buffer.from('x'));
    expect(() => open(key, 'mesh-b', 'k', sealed)).toThrow();
    expect(() => open(key, 'mesh-a', 'k2', sealed)).toThrow();
    expect(() => open(randomBytes(32), 'mesh-a', 'k', sealed)).toThrow();
    const tampered = Buffer.from(sealed);
    tampered[tampered.length - 1]! ^= 1;
    expect(() => open(key, 'mesh-a', 'k', tampered)).toThrow();
  });

  it('binds mesh and key unambiguously', () => {
    const sealed = seal(key, 'ab', 'c', Buffer.from('x'));
    expect(() => open(key, 'a', 'bc', sealed)).toThrow();
  });
});
