// Which submitted ballots are accepted. Pure; every rejection names the rule it broke.
//
// Rule for a voter who votes again: the last one wins. While voting is open a voter may sign
// a new ballot with a higher nonce; it replaces their earlier ballot in the tally (every
// accepted ballot stays in the published record and the Merkle tree). A ballot whose nonce is
// not higher than the voter's last accepted nonce is refused, and so is a resubmitted ballot.
import { getAddress, isHexString } from 'ethers';
import { MAX_REASON_LENGTH, recoverBallotSigner, type BallotDomain, type SignedBallot } from './ballot.js';
import { CHOICES, type Choice } from './tally.js';
import type { RegisteredVoter } from './voters.js';

export const BALLOT_RULES = [
  'malformed',
  'wrong-proposal',
  'wrong-chain',
  'wrong-contract',
  'bad-signature',
  'tampered',
  'wrong-content',
  'unregistered-voter',
  'outside-voting-period',
  'replay',
  'stale-nonce',
] as const;
export type BallotRule = (typeof BALLOT_RULES)[number];

export class BallotRejected extends Error {
  override readonly name = 'BallotRejected';
  constructor(
    readonly rule: BallotRule,
    message: string,
  ) {
    super(`ballot rejected (${rule}): ${message}`);
  }
}

export interface AdmissionContext {
  /** `<namespace>/<name>`. */
  proposal: string;
  contentHash: string;
  domain: BallotDomain;
  registry: ReadonlyMap<string, RegisteredVoter>;
  votingStartsAt: Date;
  votingEndsAt: Date;
  now: Date;
  /** Ballots accepted so far for this Proposal. */
  accepted: readonly SignedBallot[];
  /** An index of `accepted` kept by the caller across calls (tallies of many ballots stay linear). */
  ledger?: BallotLedger;
}

/** Signatures and last nonces of accepted ballots, for constant-time replay and nonce checks. */
export class BallotLedger {
  private readonly signatures = new Set<string>();
  private readonly nonces = new Map<string, number>();

  static of(ballots: readonly SignedBallot[]): BallotLedger {
    const ledger = new BallotLedger();
    for (const ballot of ballots) ledger.add(ballot);
    return ledger;
  }

  add(ballot: SignedBallot): void {
    this.signatures.add(ballot.signature.toLowerCase());
    this.nonces.set(ballot.voter, Math.max(this.nonces.get(ballot.voter) ?? -1, ballot.nonce));
  }

  has(signature: string): boolean {
    return this.signatures.has(signature.toLowerCase());
  }

  lastNonce(voter: string): number {
    return this.nonces.get(voter) ?? -1;
  }
}

function field<T>(record: Record<string, unknown>, name: string, check: (value: unknown) => value is T, rule: string): T {
  const value = record[name];
  if (!check(value)) throw new BallotRejected('malformed', `${name} ${rule}`);
  return value;
}

const isString = (v: unknown): v is string => typeof v === 'string';

/** Checks the shape of a submitted ballot (from JSON) and normalises addresses to lower case. */
export function parseBallot(input: unknown): SignedBallot {
  if (typeof input !== 'object' || input === null || Array.isArray(input)) throw new BallotRejected('malformed', 'the ballot must be a JSON object');
  const record = input as Record<string, unknown>;
  const proposal = field(record, 'proposal', (v): v is string => isString(v) && /^[a-z0-9-]+\/[a-z0-9.-]+$/.test(v), 'must be <namespace>/<name>');
  const contentHash = field(record, 'contentHash', (v): v is string => isString(v) && isHexString(v, 32), 'must be a 32-byte hex string');
  const voter = field(record, 'voter', (v): v is string => isString(v) && /^0x[0-9a-fA-F]{40}$/.test(v), 'must be an EVM address');
  const nonce = field(record, 'nonce', (v): v is number => typeof v === 'number' && Number.isSafeInteger(v) && v >= 0, 'must be a non-negative integer');
  const choice = field(record, 'choice', (v): v is Choice => (CHOICES as readonly unknown[]).includes(v), `must be one of ${CHOICES.join(', ')}`);
  const reason = record['reason'] === undefined ? '' : field(record, 'reason', (v): v is string => isString(v) && v.length <= MAX_REASON_LENGTH, `must be a string of at most ${MAX_REASON_LENGTH} characters`);
  const chainId = field(record, 'chainId', (v): v is number => typeof v === 'number' && Number.isSafeInteger(v) && v > 0, 'must be a positive integer');
  const verifyingContract = field(record, 'verifyingContract', (v): v is string => isString(v) && /^0x[0-9a-fA-F]{40}$/.test(v), 'must be an EVM address');
  const signature = field(record, 'signature', (v): v is string => isString(v) && isHexString(v, 65), 'must be a 65-byte hex signature');
  return { proposal, contentHash: contentHash.toLowerCase(), voter: voter.toLowerCase(), nonce, choice, reason, chainId, verifyingContract: verifyingContract.toLowerCase(), signature: signature.toLowerCase() };
}

/** Accepts or rejects one ballot against the Proposal's state. Returns the normalised ballot. */
export function admitBallot(input: unknown, context: AdmissionContext): SignedBallot {
  const ballot = parseBallot(input);
  if (ballot.proposal !== context.proposal) throw new BallotRejected('wrong-proposal', `signed for proposal ${ballot.proposal}, submitted to ${context.proposal}`);
  if (ballot.chainId !== context.domain.chainId) throw new BallotRejected('wrong-chain', `signed for chain ${ballot.chainId}; this mesh votes on chain ${context.domain.chainId}`);
  if (ballot.verifyingContract !== context.domain.verifyingContract.toLowerCase()) {
    throw new BallotRejected('wrong-contract', `signed for contract ${getAddress(ballot.verifyingContract)}; this mesh anchors with ${getAddress(context.domain.verifyingContract)}`);
  }
  let signer: string;
  try {
    signer = recoverBallotSigner(ballot);
  } catch (error) {
    throw new BallotRejected('bad-signature', `the signature cannot be verified: ${(error as Error).message.split(' (')[0] ?? ''}`);
  }
  if (signer !== ballot.voter) throw new BallotRejected('tampered', `the signature is by ${getAddress(signer)}, not by the voter ${getAddress(ballot.voter)}: the ballot was altered or signed by someone else`);
  if (ballot.contentHash !== context.contentHash.toLowerCase()) throw new BallotRejected('wrong-content', `signed for content ${ballot.contentHash}; the proposal's content hash is ${context.contentHash}`);
  if (!context.registry.has(ballot.voter)) throw new BallotRejected('unregistered-voter', `${getAddress(ballot.voter)} is not in the mesh's spec.governance.voters`);
  if (context.now < context.votingStartsAt || context.now >= context.votingEndsAt) {
    throw new BallotRejected('outside-voting-period', `voting is open from ${context.votingStartsAt.toISOString()} to ${context.votingEndsAt.toISOString()}; it is ${context.now.toISOString()}`);
  }
  // A resubmitted ballot has the same signature; a re-encoded signature of the same ballot
  // (ECDSA malleability) carries the same nonce and falls to the nonce rule below.
  const ledger = context.ledger ?? BallotLedger.of(context.accepted);
  if (ledger.has(ballot.signature)) throw new BallotRejected('replay', 'this ballot was already accepted');
  const lastNonce = ledger.lastNonce(ballot.voter);
  if (ballot.nonce <= lastNonce) throw new BallotRejected('stale-nonce', `nonce ${ballot.nonce} is not above ${lastNonce}, the voter's last accepted nonce (a new vote must use nonce ${lastNonce + 1} or higher)`);
  return ballot;
}

/** The ballot that counts for each voter: the one with the highest nonce. */
export function countedBallots(accepted: readonly SignedBallot[]): SignedBallot[] {
  const latest = new Map<string, SignedBallot>();
  for (const ballot of accepted) {
    const current = latest.get(ballot.voter);
    if (!current || ballot.nonce > current.nonce) latest.set(ballot.voter, ballot);
  }
  return [...latest.values()];
}

/** The voter's next nonce for this Proposal. */
export function nextNonce(accepted: readonly SignedBallot[], voter: string): number {
  let next = 0;
  for (const ballot of accepted) if (ballot.voter === voter.toLowerCase()) next = Math.max(next, ballot.nonce + 1);
  return next;
}
