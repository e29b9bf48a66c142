import { describe, expect, it } from 'vitest';
import { staleFiles } from './generate.js';

describe('discovery/generated', () => {
  it('matches what protoc and ts-proto generate from discovery/proto', () => {
    expect(staleFiles()).toEqual([]);
  }, 60_000);
});
