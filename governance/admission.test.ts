import { Wallet } from 'ethers';
import { describe, expect, it } from 'vitest';
import { BallotRejected, admitBallot, countedBallots, nextNonce, type AdmissionContext } from './admission.js';
import { ballotDigest, proposalContentHash, signBallot, type BallotDomain, type SignedBallot } from './ballot.js';
import { ballotTree, verifyInclusion } from './merkle.js';
import type { RegisteredVoter } from './voters.js';
import type { Proposal } from '../crds/types.js';

const alice = new Wallet('0x' + '11'.repeat(32));
const bob = new Wallet('0x' + '22'.repeat(32));
const mallory = new Wallet('0x' + '33'.repeat(32));
const domain: BallotDomain = { chainId: 31337, verifyingContract: '0x' + 'aa'.repeat(20) };
const proposal: Proposal = {
  apiVersion: 'meshos.dev/v1alpha1',
  kind: 'Proposal',
  metadata: { name: 'p1', namespace: 'gov', uid: 'u-1' },
  spec: { meshRef: 'm', title: 'T', proposer: { did: 'did:mesh:a:b', kind: 'human' }, change: { patch: { spec: { description: 'x' } } } },
};
const contentHash = proposalContentHash(proposal);
const registry = new Map<string, RegisteredVoter>(
  [alice, bob].map((w, i) => [w.address.toLowerCase(), { id: w.address, address: w.address.toLowerCase(), group: 'council', weight: i + 1 }]),
);
const context = (accepted: SignedBallot[] = [], now = new Date('2026-01-01T01:00:00Z')): AdmissionContext => ({
  proposal: 'gov/p1',
  contentHash,
  domain,
  registry,
  votingStartsAt: new Date('2026-01-01T00:00:00Z'),
  votingEndsAt: new Date('2026-01-02T00:00:00Z'),
  now,
  accepted,
});
const vote = (wallet: Wallet, choice: 'for' | 'against' | 'abstain' = 'for', nonce = 0, over: Partial<BallotDomain> = {}) =>
  signBallot(wallet, { ...domain, ...over }, { proposal: 'gov/p1', contentHash, voter: wallet.address, nonce, choice, reason: 'looks right' });

function rejection(fn: () => unknown): BallotRejected {
  try {
    fn();
  } catch (error) {
    if (error instanceof BallotRejected) return error;
    throw error;
  }
  throw new Error('expected a rejection');
}

describe('admitBallot', () => {
  it('accepts a registered voter\'s ballot signed for this proposal, chain and contract', async () => {
    const ballot = await vote(alice);
    expect(admitBallot(JSON.parse(JSON.stringify(ballot)), context())).toEqual(ballot);
  });

  it('rejects a replayed ballot', async () => {
    const ballot = await vote(alice);
    expect(rejection(() => admitBallot(ballot, context([ballot]))).rule).toBe('replay');
  });

  it('lets the last ballot win only with a higher nonce', async () => {
    const first = await vote(alice, 'for', 0);
    const second = await vote(alice, 'against', 1);
    const sameNonce = await vote(alice, 'against', 0);
    expect(rejection(() => admitBallot(sameNonce, context([first]))).rule).toBe('stale-nonce');
    expect(admitBallot(second, context([first])).choice).toBe('against');
    expect(countedBallots([first, second])).toEqual([second]);
    expect(nextNonce([first, second], alice.address)).toBe(2);
  });

  it('rejects ballots signed for another chain or contract', async () => {
    const otherChain = await vote(alice, 'for', 0, { chainId: 1 });
    expect(rejection(() => admitBallot(otherChain, context())).message).toMatch(/wrong-chain.*chain 1/);
    const otherContract = await vote(alice, 'for', 0, { verifyingContract: '0x' + 'bb'.repeat(20) });
    expect(rejection(() => admitBallot(otherContract, context())).rule).toBe('wrong-contract');
    // Relabelling the chain does not help: the signature no longer matches.
    expect(rejection(() => admitBallot({ ...otherChain, chainId: 31337 }, context())).rule).toBe('tampered');
  });

  it('rejects a tampered ballot', async () => {
    const ballot = await vote(alice, 'against');
    expect(rejection(() => admitBallot({ ...ballot, choice: 'for' }, context())).rule).toBe('tampered');
    expect(rejection(() => admitBallot({ ...ballot, reason: 'changed' }, context())).rule).toBe('tampered');
    expect(rejection(() => admitBallot({ ...ballot, voter: bob.address }, context())).rule).toBe('tampered');
    expect(rejection(() => admitBallot({ ...ballot, signature: '0x' + '00'.repeat(65) }, context())).rule).toBe('bad-signature');
  });

  it('rejects an unregistered voter', async () => {
    const ballot = await vote(mallory);
    expect(rejection(() => admitBallot(ballot, context())).message).toMatch(/unregistered-voter.*spec.governance.voters/);
  });

  it('rejects a ballot outside the voting period', async () => {
    const ballot = await vote(alice);
    expect(rejection(() => admitBallot(ballot, context([], new Date('2026-01-02T00:00:00Z')))).rule).toBe('outside-voting-period');
    expect(rejection(() => admitBallot(ballot, context([], new Date('2025-12-31T23:59:59Z')))).rule).toBe('outside-voting-period');
  });

  it('rejects a ballot for other content or another proposal', async () => {
    const other = await signBallot(alice, domain, { proposal: 'gov/p1', contentHash: '0x' + '00'.repeat(32), voter: alice.address, nonce: 0, choice: 'for', reason: '' });
    expect(rejection(() => admitBallot(other, context())).rule).toBe('wrong-content');
    const elsewhere = await signBallot(alice, domain, { proposal: 'gov/p2', contentHash, voter: alice.address, nonce: 0, choice: 'for', reason: '' });
    expect(rejection(() => admitBallot(elsewhere, context())).rule).toBe('wrong-proposal');
  });

  it('names the field of a malformed ballot', async () => {
    const ballot = await vote(alice);
    expect(rejection(() => admitBallot({ ...ballot, choice: 'yes' }, context())).message).toMatch(/choice must be one of against, for, abstain/);
    expect(rejection(() => admitBallot({ ...ballot, nonce: -1 }, context())).message).toMatch(/nonce must be a non-negative integer/);
    expect(rejection(() => admitBallot('x', context())).rule).toBe('malformed');
  });

  it('changes the content hash when the change changes', () => {
    const changed = { ...proposal, spec: { ...proposal.spec, change: { patch: { spec: { description: 'y' } } } } };
    expect(proposalContentHash(changed)).not.toBe(contentHash);
    expect(proposalContentHash({ ...proposal, metadata: { ...proposal.metadata, uid: 'u-2' } })).not.toBe(contentHash);
  });
});

describe('ballot tree', () => {
  it('proves the inclusion of every ballot and refuses a forged one', async () => {
    const ballots = [await vote(alice, 'for'), await vote(bob, 'against'), await vote(alice, 'abstain', 1)];
    const tree = ballotTree(ballots);
    ballots.forEach((ballot, i) => expect(verifyInclusion(tree.root, ballot, tree.proof(i))).toBe(true));
    const forged = { ...ballots[1]!, choice: 'for' as const };
    expect(verifyInclusion(tree.root, forged, tree.proof(1))).toBe(false);
    expect(ballotDigest(ballots[0]!)).toMatch(/^0x[0-9a-f]{64}$/);
  });
});
