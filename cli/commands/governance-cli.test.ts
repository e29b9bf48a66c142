import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import type { Proposal } from '../../crds/types.js';
import { UsageError } from '../io.js';
import { renderTable } from '../output.js';
import { PROPOSAL_COLUMNS, proposalRows, timeLeft } from './proposals.js';
import { readProposal } from './propose.js';
import { readKey } from './vote.js';

const dir = mkdtempSync(join(tmpdir(), 'mesh-gov-cli-'));

describe('mesh propose: manifest checks', () => {
  it('names the field and rule of an invalid manifest', () => {
    const file = join(dir, 'bad.yaml');
    writeFileSync(file, 'apiVersion: meshos.dev/v1alpha1\nkind: Proposal\nmetadata: {name: p, namespace: ns}\nspec: {meshRef: m, title: t, proposer: {did: "did:mesh:a:b", kind: robot}, change: {patch: {}}}\n');
    expect(() => readProposal(file)).toThrow(/spec.proposer.kind/);
    writeFileSync(file, 'kind: Mesh\n');
    expect(() => readProposal(file)).toThrow(/kind must be Proposal/);
    writeFileSync(file, 'apiVersion: meshos.dev/v1alpha1\nkind: Proposal\nmetadata: {name: p}\nspec: {meshRef: m, title: t, proposer: {did: "did:mesh:a:b", kind: human}, change: {patch: {}}}\n');
    expect(() => readProposal(file)).toThrow(/metadata.namespace is required/);
    expect(readProposal(file, 'gov').metadata.namespace).toBe('gov');
    expect(readProposal(file, undefined, 'ctx').metadata.namespace).toBe('ctx'); // the context's namespace fills a missing one
    expect(() => readProposal(join(dir, 'missing.yaml'))).toThrow(UsageError);
  });
});

describe('mesh vote: key file', () => {
  it('reads a hex key with or without 0x and refuses anything else', () => {
    const file = join(dir, 'k');
    writeFileSync(file, `${'ab'.repeat(32)}\n`);
    expect(readKey(file).privateKey).toBe(`0x${'ab'.repeat(32)}`);
    writeFileSync(file, '0x1234');
    expect(() => readKey(file)).toThrow(/32-byte hex private key/);
  });
});

describe('mesh proposals: table', () => {
  it('shows time left, ballots, approval and anchor', () => {
    const now = new Date('2026-01-01T00:00:00Z');
    expect(timeLeft('2026-01-01T00:01:30Z', now)).toBe('1m30s');
    expect(timeLeft('2026-01-03T02:00:00Z', now)).toBe('2d2h');
    expect(timeLeft('2025-12-31T00:00:00Z', now)).toBe('closed');
    const proposal: Proposal = {
      apiVersion: 'meshos.dev/v1alpha1',
      kind: 'Proposal',
      metadata: { name: 'p', namespace: 'ns' },
      spec: { meshRef: 'm', title: 'Title', proposer: { did: 'did:mesh:a:b', kind: 'human' }, change: { patch: {} } },
      status: {
        phase: 'Executed',
        tally: { contentHash: '0x', aiVotes: [], result: { human: { ballots: 3 }, approvalPercent: 76 } },
        anchor: { state: 'Anchored', chainId: 31337, contract: '0x', contentHash: '0x', txHash: '0xabcdef0123456789' },
      },
    };
    const table = renderTable(proposalRows([proposal], now), PROPOSAL_COLUMNS);
    expect(table.split('\n')[0]).toMatch(/^NAMESPACE\s+NAME\s+MESH\s+PHASE\s+TIME LEFT\s+BALLOTS\s+APPROVAL\s+ANCHOR\s+TITLE$/);
    expect(table.split('\n')[1]).toMatch(/^ns\s+p\s+m\s+Executed\s+-\s+3\s+76%\s+31337\/0xabcdef01\s+Title$/);
  });
});
