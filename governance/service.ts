// The governance module's shared core: what the Proposal controller, the voters' portal and the
// CLI use to read a Proposal's vote, admit a ballot and compute the tally. Holds no state of its
// own: ballots are in their ConfigMap, everything else in the Proposal's and Mesh's status.
import { ZeroAddress } from 'ethers';
import type { Agent, Mesh, Proposal } from '../crds/types.js';
import type { KubeClient } from '../operator/kube/client.js';
import { BallotLedger, BallotRejected, admitBallot, countedBallots, type AdmissionContext } from './admission.js';
import type { BallotDomain } from './ballot.js';
import { BallotStore, type StoredBallot } from './ballot-store.js';
import type { GovernanceChain } from './chain/anchor.js';
import type { ImpactAnalysis } from './impact.js';
import type { AiVote } from './representatives.js';
import { governanceRules } from './rules.js';
import { tally, type TallyResult } from './tally.js';
import { registeredWeight, voterRegistry } from './voters.js';

export const DEFAULT_CHAIN_ID = 31337;

/** The Proposal's `status.tally` as the governance controller writes it. */
export interface TallyStatus {
  contentHash: string;
  aiVotes: AiVote[];
  /** Ballots accepted when the status was written. */
  ballots?: number;
  result?: TallyResult;
  /** Ballots refused when re-verified at tally time (edited store, changed registry). */
  discarded?: { voter: string; reason: string }[];
}

/** The Proposal's `status.anchor`. */
export interface AnchorStatus {
  state: 'Pending' | 'Sent' | 'Anchored' | 'NotConfigured';
  chainId: number;
  contract: string;
  contentHash: string;
  ballotsRoot?: string;
  txHash?: string;
  blockNumber?: number;
  outcome?: string;
}

export interface ReadOnlyStore<T> {
  get(key: string): T | undefined;
  list(): T[];
}

export function tallyStatus(proposal: Proposal): TallyStatus | undefined {
  const raw = proposal.status?.tally as Partial<TallyStatus> | undefined;
  return raw && typeof raw.contentHash === 'string' ? (raw as TallyStatus) : undefined;
}

export function anchorStatus(proposal: Proposal): AnchorStatus | undefined {
  const raw = proposal.status?.anchor as Partial<AnchorStatus> | undefined;
  return raw && typeof raw.contract === 'string' ? (raw as AnchorStatus) : undefined;
}

export function impactOf(proposal: Proposal): ImpactAnalysis | undefined {
  return proposal.status?.impact as ImpactAnalysis | undefined;
}

export class Governance {
  readonly ballots: BallotStore;
  chain: GovernanceChain | undefined;
  /** Resolves did:ethr and did:mesh while a chain is connected. */
  resolveDid: ((did: string) => Promise<unknown>) | undefined;

  constructor(
    readonly deps: {
      client: KubeClient;
      meshes: ReadOnlyStore<Mesh>;
      agents: ReadOnlyStore<Agent>;
      proposals: ReadOnlyStore<Proposal>;
      now?: () => Date;
      /** True when a chain is configured (it may still be connecting). */
      chainExpected?: boolean;
    },
  ) {
    this.ballots = new BallotStore(deps.client);
  }

  now(): Date {
    return (this.deps.now ?? (() => new Date()))();
  }

  /** The EIP-712 domain ballots of this Mesh are signed for: the anchor contract on its chain. */
  domainFor(mesh: Mesh): BallotDomain {
    if (this.chain) return { chainId: this.chain.chainId, verifyingContract: this.chain.anchorAddress };
    const chain = mesh.spec.governance?.chain;
    return { chainId: chain?.chainId ?? DEFAULT_CHAIN_ID, verifyingContract: (chain?.governorAddress ?? ZeroAddress).toLowerCase() };
  }

  proposal(key: string): Proposal | undefined {
    return this.deps.proposals.get(key);
  }

  private admissionContext(proposal: Proposal, mesh: Mesh, accepted: readonly StoredBallot[], now: Date): AdmissionContext {
    return admissionContextFor(proposal, mesh, accepted, now, this.domainFor(mesh));
  }

  /** Admits a ballot and stores it; throws BallotRejected naming the rule, or Error when the Proposal is unknown. */
  async submitBallot(key: string, input: unknown): Promise<{ ballot: StoredBallot; tally: TallyResult }> {
    const proposal = this.deps.proposals.get(key);
    if (!proposal) throw new Error(`proposal ${key} not found`);
    const mesh = this.deps.meshes.get(proposal.spec.meshRef);
    if (!mesh) throw new Error(`mesh ${proposal.spec.meshRef} of proposal ${key} not found`);
    if (proposal.status?.phase !== 'Voting') {
      throw new BallotRejected('outside-voting-period', `proposal ${key} is ${proposal.status?.phase ?? 'not yet open'}, not Voting`);
    }
    const now = this.now();
    const ballot = await this.ballots.append(proposal, (accepted) => ({ ...admitBallot(input, this.admissionContext(proposal, mesh, accepted, now)), acceptedAt: now.toISOString() }));
    const stored = await this.ballots.list(proposal);
    return { ballot, tally: this.tally(proposal, mesh, stored).result };
  }

  /** The tally from the stored ballots, each verified again (see tallyStoredBallots). */
  tally(proposal: Proposal, mesh: Mesh, stored: readonly StoredBallot[]): StoredTally {
    return tallyStoredBallots(proposal, mesh, stored, this.domainFor(mesh));
  }

  async liveTally(key: string): Promise<{ result: TallyResult; ballots: StoredBallot[]; discarded: { voter: string; reason: string }[] } | undefined> {
    const proposal = this.deps.proposals.get(key);
    const mesh = proposal ? this.deps.meshes.get(proposal.spec.meshRef) : undefined;
    if (!proposal || !mesh || !tallyStatus(proposal)) return undefined;
    const stored = await this.ballots.list(proposal);
    const { result, valid, discarded } = this.tally(proposal, mesh, stored);
    return { result, ballots: valid, discarded };
  }
}

export function keyOf(namespace: string, name: string): string {
  return `${namespace}/${name}`;
}

/** What the admission rules check a ballot of `proposal` against; `fallbackDomain` applies before the Proposal records its own. */
export function admissionContextFor(proposal: Proposal, mesh: Mesh, accepted: readonly StoredBallot[], now: Date, fallbackDomain: BallotDomain): AdmissionContext {
  const tallyState = tallyStatus(proposal);
  const anchor = anchorStatus(proposal);
  return {
    proposal: `${proposal.metadata.namespace ?? ''}/${proposal.metadata.name ?? ''}`,
    contentHash: tallyState?.contentHash ?? '',
    domain: anchor ? { chainId: anchor.chainId, verifyingContract: anchor.contract } : fallbackDomain,
    registry: voterRegistry(mesh),
    votingStartsAt: new Date(proposal.status?.votingStartsAt ?? 0),
    votingEndsAt: new Date(proposal.status?.votingEndsAt ?? 0),
    now,
    accepted,
  };
}

export interface StoredTally {
  result: TallyResult;
  valid: StoredBallot[];
  discarded: { voter: string; reason: string }[];
}

/**
 * The tally from the stored ballots, each verified again (signature, registry, domain and the
 * time it was accepted), so an edited ConfigMap or a voter removed from the registry cannot
 * count. Ballots that fail are reported as discarded. Pure; linear in the number of ballots.
 */
export function tallyStoredBallots(proposal: Proposal, mesh: Mesh, stored: readonly StoredBallot[], fallbackDomain: BallotDomain): StoredTally {
  const valid: StoredBallot[] = [];
  const discarded: { voter: string; reason: string }[] = [];
  const context = admissionContextFor(proposal, mesh, valid, new Date(0), fallbackDomain);
  const ledger = new BallotLedger();
  for (const ballot of stored) {
    try {
      admitBallot(ballot, { ...context, now: new Date(ballot.acceptedAt), ledger });
      valid.push(ballot);
      ledger.add(ballot);
    } catch (error) {
      discarded.push({ voter: ballot.voter, reason: (error as Error).message });
    }
  }
  const registry = context.registry;
  const human = countedBallots(valid).map((b) => ({ voter: b.voter, weight: registry.get(b.voter)?.weight ?? 1, choice: b.choice }));
  const ai = (tallyStatus(proposal)?.aiVotes ?? []).map((v) => ({ voter: v.representative, weight: v.confidence, choice: v.choice }));
  const result = tally({ rules: governanceRules(mesh), human, ai, registeredHumanWeight: registeredWeight(registry), critical: proposal.spec.critical ?? false });
  return { result, valid, discarded };
}
