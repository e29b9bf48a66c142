// npm run bench:governance
// Governance costs, each beside a baseline measured in the same run:
// - ballotsVerifiedPerSecond: signed EIP-712 ballots through every admission rule (signature,
//   domain, content, registry, period, replay, nonce), against ethers' bare verifyTypedData;
// - tallySecondsFor10kBallots: the operator's tally of 10,000 stored ballots (each verified
//   again), against the weighted arithmetic alone on pre-verified votes;
// - anchorGasPerProposal: gas of anchoring one Proposal on a local hardhat chain, for 10 to
//   10,000 voters (constant: one root, fixed-size tally);
// - governorGasPerVote: gas of one castVote on a standard OpenZeppelin Governor (compiled from
//   @openzeppelin/contracts with solc-js) on the same chain: one transaction per voter.
import { writeFile } from 'node:fs/promises';
import { loadavg } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { ContractFactory, HDNodeWallet, JsonRpcProvider, NonceManager, TypedDataEncoder, Wallet, keccak256, toBeHex, verifyTypedData } from 'ethers';
import type { Contract } from 'ethers';
import type { Mesh, Proposal } from '../crds/types.js';
import { BallotLedger, admitBallot, type AdmissionContext } from '../governance/admission.js';
import { BALLOT_TYPES, typedDomain, typedMessage, type BallotDomain, type SignedBallot } from '../governance/ballot.js';
import type { StoredBallot } from '../governance/ballot-store.js';
import { GovernanceChain } from '../governance/chain/anchor.js';
import { ownArtifact } from '../governance/chain/artifacts.js';
import { DEV_DEPLOYER_KEY, startDevChain } from '../governance/chain/devnode.js';
import { ballotTree } from '../governance/merkle.js';
import { tallyStoredBallots } from '../governance/service.js';
import { tally, type Choice } from '../governance/tally.js';
import { voterRegistry } from '../governance/voters.js';

const { values } = parseArgs({
  options: {
    ballots: { type: 'string', default: '10000' },
    // Throughput is measured on this many of the ballots (signature recovery dominates; a busy machine makes 10k slow).
    sample: { type: 'string', default: '2000' },
    'governor-voters': { type: 'string', default: '10' },
  },
});
const root = new URL('..', import.meta.url).pathname;
const round = (value: number, digits = 2): number => Math.round(value * 10 ** digits) / 10 ** digits;
const BALLOTS = Number(values.ballots);
const GOVERNOR_VOTERS = Number(values['governor-voters']);
const SAMPLE = Math.min(BALLOTS, Number(values.sample));
const CHOICES: Choice[] = ['for', 'for', 'against', 'abstain'];
const HARDHAT_MNEMONIC = 'test test test test test test test test test test test junk';

function wallets(count: number): Wallet[] {
  return Array.from({ length: count }, (_, i) => new Wallet(keccak256(toBeHex(i + 1, 32))));
}

/** Signs directly with the signing key (same signature as signTypedData, without the async plumbing). */
function signAll(voters: readonly Wallet[], domain: BallotDomain, proposal: string, contentHash: string): SignedBallot[] {
  const typed = typedDomain(domain);
  return voters.map((wallet, i) => {
    const message = { proposal, contentHash, voter: wallet.address.toLowerCase(), nonce: 0, choice: CHOICES[i % CHOICES.length]!, reason: '' };
    const signature = wallet.signingKey.sign(TypedDataEncoder.hash(typed, BALLOT_TYPES, typedMessage(message))).serialized;
    return { ...message, chainId: domain.chainId, verifyingContract: domain.verifyingContract.toLowerCase(), signature };
  });
}

async function main(): Promise<void> {
  const out = (text: string): boolean => process.stderr.write(text);
  out(`Starting a local hardhat chain\n`);
  const devChain = await startDevChain();
  try {
    const chain = await GovernanceChain.connect({ rpcUrl: devChain.rpcUrl, chainId: devChain.chainId, signerKey: DEV_DEPLOYER_KEY });
    const domain: BallotDomain = { chainId: chain.chainId, verifyingContract: chain.anchorAddress };
    const contentHash = keccak256(toBeHex(42, 32));
    const key = 'bench/p';

    // Ballots and a Mesh registering every voter.
    out(`Signing ${BALLOTS} ballots\n`);
    const voters = wallets(BALLOTS);
    const ballots = signAll(voters, domain, key, contentHash);
    const mesh: Mesh = { apiVersion: 'meshos.dev/v1alpha1', kind: 'Mesh', metadata: { name: 'bench' }, spec: { governance: { voters: voters.map((w) => ({ id: w.address })) } } };
    const startsAt = '2026-01-01T00:00:00Z';
    const proposal: Proposal = {
      apiVersion: 'meshos.dev/v1alpha1',
      kind: 'Proposal',
      metadata: { name: 'p', namespace: 'bench' },
      spec: { meshRef: 'bench', title: 'bench', proposer: { did: 'did:mesh:b:c', kind: 'human' }, change: { patch: {} } },
      status: {
        phase: 'Voting',
        votingStartsAt: startsAt,
        votingEndsAt: '2026-01-02T00:00:00Z',
        tally: { contentHash, aiVotes: [{ representative: 'ethics', choice: 'for', confidence: 0.7, explanation: '' }] },
        anchor: { state: 'Pending', chainId: domain.chainId, contract: domain.verifyingContract, contentHash },
      },
    };

    // 1. Verification throughput: every admission rule vs bare signature recovery.
    const context: AdmissionContext = { proposal: key, contentHash, domain, registry: voterRegistry(mesh), votingStartsAt: new Date(startsAt), votingEndsAt: new Date('2026-01-02T00:00:00Z'), now: new Date('2026-01-01T12:00:00Z'), accepted: [] };
    const ledger = new BallotLedger();
    // Project and baseline alternate in chunks so that load from other processes hits both alike.
    const sample = ballots.slice(0, SAMPLE);
    const typed = typedDomain(domain);
    let admitSeconds = 0;
    let bareSeconds = 0;
    const chunk = Math.max(1, Math.floor(SAMPLE / 8));
    for (let from = 0; from < sample.length; from += chunk) {
      const part = sample.slice(from, from + chunk);
      let started = performance.now();
      for (const ballot of part) ledger.add(admitBallot(ballot, { ...context, ledger }));
      admitSeconds += (performance.now() - started) / 1000;
      started = performance.now();
      for (const ballot of part) verifyTypedData(typed, BALLOT_TYPES, typedMessage(ballot), ballot.signature);
      bareSeconds += (performance.now() - started) / 1000;
    }
    out(`Verified ${SAMPLE} ballots; tallying ${BALLOTS}\n`);

    // 2. Tally of 10k stored ballots (re-verified) vs the arithmetic alone.
    const stored: StoredBallot[] = ballots.map((b) => ({ ...b, acceptedAt: '2026-01-01T12:00:00Z' }));
    let started = performance.now();
    const tallied = tallyStoredBallots(proposal, mesh, stored, domain);
    const tallySeconds = (performance.now() - started) / 1000;
    if (tallied.valid.length !== BALLOTS) throw new Error(`tally accepted ${tallied.valid.length} of ${BALLOTS} ballots: ${tallied.discarded[0]?.reason ?? ''}`);
    const rules = { humanWeight: 60, aiWeight: 40, approvalThreshold: 70, vetoThreshold: 80, quorumPercent: undefined };
    const plainVotes = ballots.map((b) => ({ voter: b.voter, weight: 1, choice: b.choice }));
    started = performance.now();
    tally({ rules, human: plainVotes, ai: [], registeredHumanWeight: BALLOTS, critical: false });
    const arithmeticSeconds = (performance.now() - started) / 1000;

    // 3. Anchoring gas for growing numbers of voters.
    const anchorGasByVoters: Record<string, number> = {};
    for (const [i, count] of [10, 100, 1000, BALLOTS].entries()) {
      const subset = stored.slice(0, count);
      // These ballots were verified above; the arithmetic alone gives the same result.
      const result = tally({ rules, human: plainVotes.slice(0, count), ai: [], registeredHumanWeight: BALLOTS, critical: false });
      const tree = ballotTree(subset);
      const record = await chain.anchor(keccak256(toBeHex(1000 + i, 32)), tree.root, result, count);
      anchorGasByVoters[String(count)] = Number(record.gasUsed ?? 0n);
      out(`Anchored a proposal with ${count} ballots: ${record.gasUsed ?? 0n} gas\n`);
    }
    const anchorGas = Object.values(anchorGasByVoters);

    // 4. OpenZeppelin Governor on the same chain: one castVote per voter.
    const provider = new JsonRpcProvider(devChain.rpcUrl, devChain.chainId, { staticNetwork: true, cacheTimeout: -1 });
    const accounts = Array.from({ length: GOVERNOR_VOTERS + 1 }, (_, i) => HDNodeWallet.fromPhrase(HARDHAT_MNEMONIC, undefined, `m/44'/60'/0'/0/${i + 1}`).connect(provider));
    const deployer = new NonceManager(accounts[0]!);
    const tokenArtifact = ownArtifact('BenchVotesToken');
    const governorArtifact = ownArtifact('BenchGovernor');
    const token = (await (await new ContractFactory(tokenArtifact.abi, tokenArtifact.bytecode, deployer).deploy()).waitForDeployment()) as Contract;
    const governor = (await (await new ContractFactory(governorArtifact.abi, governorArtifact.bytecode, deployer).deploy(await token.getAddress())).waitForDeployment()) as Contract;
    const governorVoters = accounts.slice(1);
    for (const voter of governorVoters) {
      await (await (token.getFunction('mint')(voter.address, 10n ** 18n) as Promise<{ wait(): Promise<unknown> }>)).wait();
      await (await ((token.connect(voter) as Contract).getFunction('delegate')(voter.address) as Promise<{ wait(): Promise<unknown> }>)).wait();
    }
    const calldata = token.interface.encodeFunctionData('mint', [accounts[0]!.address, 0n]);
    const description = 'bench proposal';
    await (await (governor.getFunction('propose')([await token.getAddress()], [0n], [calldata], description) as Promise<{ wait(): Promise<unknown> }>)).wait();
    const proposalId = (await governor.getFunction('hashProposal').staticCall([await token.getAddress()], [0n], [calldata], keccak256(new TextEncoder().encode(description)))) as bigint;
    await provider.send('evm_mine', []);
    await provider.send('evm_mine', []);
    const voteGas: number[] = [];
    for (const [i, voter] of governorVoters.entries()) {
      const tx = (await (governor.connect(voter) as Contract).getFunction('castVote')(proposalId, i % 3 === 2 ? 0 : 1)) as { wait(): Promise<{ gasUsed: bigint } | null> };
      voteGas.push(Number((await tx.wait())?.gasUsed ?? 0n));
    }
    provider.destroy();
    chain.destroy();
    const governorGasPerVote = Math.round(voteGas.reduce((s, g) => s + g, 0) / voteGas.length);
    const anchorGasPerProposal = Math.round(anchorGas.reduce((s, g) => s + g, 0) / anchorGas.length);

    const result = {
      ballotsVerifiedPerSecond: Math.round(SAMPLE / admitSeconds),
      tallySecondsFor10kBallots: round((tallySeconds * 10_000) / BALLOTS, 3),
      anchorGasPerProposal,
      governorGasPerVote,
      anchorGasByVoters,
      anchorGasSpread: Math.max(...anchorGas) - Math.min(...anchorGas),
      governorGasForVoters: Object.fromEntries(Object.keys(anchorGasByVoters).map((n) => [n, governorGasPerVote * Number(n)])),
      baselines: {
        verify: { name: "ethers verifyTypedData alone (no domain, registry, period, replay or nonce rules)", ballotsPerSecond: Math.round(SAMPLE / bareSeconds), ratio: round(admitSeconds / bareSeconds) },
        tally: { name: 'weighted arithmetic on pre-verified votes (no signature re-verification)', seconds: round(arithmeticSeconds, 4) },
        governor: { name: 'OpenZeppelin Governor castVote (GovernorCountingSimple, GovernorVotes, quorum 4%)', gasPerVote: governorGasPerVote, samples: voteGas.length },
      },
      parameters: { ballots: BALLOTS, verifySample: SAMPLE, loadAverage: loadavg()[0], governorVoters: GOVERNOR_VOTERS, chain: 'hardhat 2 local node, chain id 31337', solc: 'solc-js 0.8.37, optimizer 200 runs, evm cancun' },
    };
    await writeFile(join(root, 'bench/results/governance.json'), JSON.stringify(result, null, 2) + '\n');
    process.stdout.write(
      [
        `ballots verified: ${result.ballotsVerifiedPerSecond}/s with every rule (bare ethers: ${result.baselines.verify.ballotsPerSecond}/s)`,
        `tally of 10k ballots: ${result.tallySecondsFor10kBallots} s with re-verification (arithmetic alone: ${result.baselines.tally.seconds} s)`,
        `anchoring: ${anchorGasPerProposal} gas per proposal, ${JSON.stringify(anchorGasByVoters)} by voters (spread ${result.anchorGasSpread})`,
        `OpenZeppelin Governor: ${governorGasPerVote} gas per vote, so ${governorGasPerVote * BALLOTS} gas for ${BALLOTS} voters`,
        'wrote bench/results/governance.json',
        '',
      ].join('\n'),
    );
  } finally {
    await devChain.stop();
  }
}

main().catch((error: unknown) => {
  process.stderr.write(`bench:governance: ${(error as Error).stack ?? String(error)}\n`);
  process.exit(1);
});
