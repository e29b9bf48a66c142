import { describe, expect, it } from 'vitest';
import { staleArtifacts } from './compile.js';

describe('governance contract artifacts', () => {
  it('were compiled by solc-js from the current sources (else run npx tsx governance/contracts/compile.ts)', () => {
    expect(staleArtifacts()).toEqual([]);
  });
});
