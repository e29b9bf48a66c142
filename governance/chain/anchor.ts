// The operator's side of the anchor contract: deploy (development), anchor a Proposal's result
// idempotently, read an anchor back and check a ballot's inclusion on chain.
import { Contract, ContractFactory, JsonRpcProvider, NonceManager, Wallet, getAddress, type ContractRunner } from 'ethers';
import type { TallyOutcome, TallyResult } from '../tally.js';
import { didRegistryArtifact, ownArtifact, type Artifact } from './artifacts.js';

export const OUTCOME_CODES: Record<TallyOutcome, number> = { Approved: 1, Rejected: 2, Vetoed: 3, Expired: 4 };
/** Weights go on chain as integers: the tally's weights times 1e4. */
const WEIGHT_SCALE = 1e4;

export interface ChainSettings {
  rpcUrl: string;
  chainId: number;
  /** Hex private key of the account that deploys and anchors (from a Secret outside development). */
  signerKey: string;
  anchorAddress?: string;
  registryAddress?: string;
}

export interface AnchorRecord {
  chainId: number;
  contract: string;
  contentHash: string;
  ballotsRoot: string;
  outcome: TallyOutcome;
  txHash: string;
  blockNumber: number;
}

export interface OnChainTally {
  humanFor: bigint;
  humanAgainst: bigint;
  humanAbstain: bigint;
  aiFor: bigint;
  aiAgainst: bigint;
  aiAbstain: bigint;
  approvalBps: number;
  ballots: number;
  outcome: number;
}

const scaled = (weight: number): bigint => BigInt(Math.round(weight * WEIGHT_SCALE));

export function onChainTally(result: TallyResult, ballots: number): OnChainTally {
  return {
    humanFor: scaled(result.human.for),
    humanAgainst: scaled(result.human.against),
    humanAbstain: scaled(result.human.abstain),
    aiFor: result.ai.counted ? scaled(result.ai.for) : 0n,
    aiAgainst: result.ai.counted ? scaled(result.ai.against) : 0n,
    aiAbstain: result.ai.counted ? scaled(result.ai.abstain) : 0n,
    approvalBps: Math.round(result.approvalPercent * 100),
    ballots,
    outcome: OUTCOME_CODES[result.outcome],
  };
}

async function deploy(artifact: Artifact, runner: ContractRunner, ...args: unknown[]): Promise<string> {
  const contract = await new ContractFactory(artifact.abi, artifact.bytecode, runner).deploy(...args);
  await contract.waitForDeployment();
  return (await contract.getAddress()).toLowerCase();
}

/** A connection to the chain with the anchor contract (and the DID registry) deployed. */
export class GovernanceChain {
  readonly anchorContract: Contract;
  /** Anchoring transactions go one at a time, so concurrent Proposals never reuse a nonce. */
  private queue: Promise<unknown> = Promise.resolve();

  private constructor(
    readonly provider: JsonRpcProvider,
    readonly wallet: NonceManager,
    readonly chainId: number,
    readonly anchorAddress: string,
    readonly registryAddress: string,
  ) {
    this.anchorContract = new Contract(anchorAddress, ownArtifact('MeshGovernanceAnchor').abi, wallet);
  }

  /**
   * Connects, checks the chain id, and deploys whichever contract is not configured or has no
   * code at its address (a fresh development chain).
   */
  static async connect(settings: ChainSettings): Promise<GovernanceChain> {
    const provider = new JsonRpcProvider(settings.rpcUrl, settings.chainId, { staticNetwork: true, pollingInterval: 250, cacheTimeout: -1 });
    const actual = Number((await provider.getNetwork()).chainId);
    const reported = Number(await provider.send('eth_chainId', []));
    if (reported !== settings.chainId || actual !== settings.chainId) throw new Error(`chain at ${settings.rpcUrl} has chain id ${reported}, configured ${settings.chainId}`);
    // Transactions go out back to back (automining chains refuse queued nonces): count locally.
    const wallet = new NonceManager(new Wallet(settings.signerKey, provider));
    const hasCode = async (address: string | undefined): Promise<boolean> => address !== undefined && (await provider.getCode(address)) !== '0x';
    const anchorAddress = (await hasCode(settings.anchorAddress)) ? (settings.anchorAddress ?? '').toLowerCase() : await deploy(ownArtifact('MeshGovernanceAnchor'), wallet);
    const registryAddress = (await hasCode(settings.registryAddress)) ? (settings.registryAddress ?? '').toLowerCase() : await deploy(didRegistryArtifact(), wallet);
    return new GovernanceChain(provider, wallet, settings.chainId, anchorAddress, registryAddress);
  }

  /** The anchor contract at `address` (a Proposal stays with the contract its ballots were signed for). */
  private contractAt(address: string | undefined): Contract {
    return address && address.toLowerCase() !== this.anchorAddress ? (this.anchorContract.attach(address) as Contract) : this.anchorContract;
  }

  /** The anchor of a Proposal, if it is on chain, with the transaction that wrote it. */
  async findAnchor(contentHash: string, address?: string): Promise<AnchorRecord | undefined> {
    const contract = this.contractAt(address);
    const [ballotsRoot, tally, anchoredAt] = (await contract.getFunction('anchorOf').staticCall(contentHash)) as [string, { outcome: bigint }, bigint];
    if (anchoredAt === 0n) return undefined;
    const logs = await contract.queryFilter(contract.filters['ProposalAnchored']!(contentHash), 0, 'latest');
    const log = logs[0];
    if (!log) return undefined;
    const outcome = (Object.entries(OUTCOME_CODES).find(([, code]) => BigInt(code) === tally.outcome)?.[0] ?? 'Rejected') as TallyOutcome;
    return { chainId: this.chainId, contract: getAddress(await contract.getAddress()), contentHash, ballotsRoot, outcome, txHash: log.transactionHash, blockNumber: log.blockNumber };
  }

  /**
   * Anchors once: when the Proposal is already on chain (a retry after a restart) the existing
   * anchor is returned and nothing is sent. `onSent` sees the transaction hash before mining.
   */
  anchor(
    contentHash: string,
    ballotsRoot: string,
    result: TallyResult,
    ballots: number,
    onSent?: (txHash: string) => Promise<void> | void,
    address?: string,
  ): Promise<AnchorRecord & { gasUsed: bigint | undefined }> {
    const contract = this.contractAt(address);
    const run = async (): Promise<AnchorRecord & { gasUsed: bigint | undefined }> => {
      const existing = await this.findAnchor(contentHash, address);
      if (existing) return { ...existing, gasUsed: undefined };
      this.wallet.reset();
      const tx = (await contract.getFunction('anchor')(contentHash, ballotsRoot, onChainTally(result, ballots))) as { hash: string; wait(): Promise<{ blockNumber: number; gasUsed: bigint; status: number | null } | null> };
      await onSent?.(tx.hash);
      const receipt = await tx.wait();
      if (!receipt || receipt.status !== 1) throw new Error(`anchoring transaction ${tx.hash} failed`);
      return { chainId: this.chainId, contract: getAddress(await contract.getAddress()), contentHash, ballotsRoot, outcome: result.outcome, txHash: tx.hash, blockNumber: receipt.blockNumber, gasUsed: receipt.gasUsed };
    };
    const next = this.queue.then(run, run);
    this.queue = next.catch(() => undefined);
    return next;
  }

  /** Asks the contract whether a ballot leaf is under the anchored root of a Proposal. */
  async verifyOnChain(contentHash: string, leaf: readonly [string, string, number, string], proof: readonly string[], address?: string): Promise<boolean> {
    return (await this.contractAt(address).getFunction('verifyBallot').staticCall(contentHash, leaf[0], leaf[1], leaf[2], leaf[3], proof)) as boolean;
  }

  destroy(): void {
    this.provider.destroy();
  }
}
