// Runs against a real local chain (hardhat node on 127.0.0.1) with the solc-js-built contracts.
import { Wallet } from 'ethers';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { signBallot, type SignedBallot } from '../ballot.js';
import { ballotTree } from '../merkle.js';
import { tally } from '../tally.js';
import { GovernanceChain } from './anchor.js';
import { DEV_DEPLOYER_KEY, startDevChain, type DevChain } from './devnode.js';

let chain: DevChain;
let governance: GovernanceChain;

beforeAll(async () => {
  chain = await startDevChain();
  governance = await GovernanceChain.connect({ rpcUrl: chain.rpcUrl, chainId: chain.chainId, signerKey: DEV_DEPLOYER_KEY });
});
afterAll(async () => {
  governance?.destroy();
  await chain?.stop();
});

async function ballots(count: number, contentHash: string): Promise<SignedBallot[]> {
  const domain = { chainId: governance.chainId, verifyingContract: governance.anchorAddress };
  return Promise.all(
    Array.from({ length: count }, (_, i) => {
      const wallet = Wallet.createRandom();
      return signBallot(wallet, domain, { proposal: 'ns/p', contentHash, voter: wallet.address, nonce: 0, choice: i % 3 === 0 ? 'against' : 'for', reason: '' });
    }),
  );
}

describe('anchor contract on a local chain', () => {
  it('anchors once, verifies inclusion on chain, and costs the same gas for 3 or 300 voters', async () => {
    const rules = { humanWeight: 60, aiWeight: 40, approvalThreshold: 70, vetoThreshold: 80, quorumPercent: undefined };
    const gas: bigint[] = [];
    for (const [i, count] of [3, 300].entries()) {
      const contentHash = `0x${String(i + 1).padStart(64, '0')}`;
      const accepted = await ballots(count, contentHash);
      const tree = ballotTree(accepted);
      const result = tally({ rules, human: accepted.map((b) => ({ voter: b.voter, weight: 1, choice: b.choice })), ai: [], registeredHumanWeight: count, critical: false });
      const sent: string[] = [];
      const record = await governance.anchor(contentHash, tree.root, result, count, (hash) => void sent.push(hash));
      expect(record.txHash).toBe(sent[0]);
      expect(record.chainId).toBe(31337);
      gas.push(record.gasUsed ?? 0n);
      // Again (a restart mid-anchoring): nothing sent, the same transaction reported.
      const again = await governance.anchor(contentHash, tree.root, result, count, () => void sent.push('second'));
      expect(sent).toHaveLength(1);
      expect(again).toMatchObject({ txHash: record.txHash, blockNumber: record.blockNumber, ballotsRoot: tree.root, outcome: result.outcome });
      expect(await governance.verifyOnChain(contentHash, tree.leaves[1]!, tree.proof(1))).toBe(true);
      const forged = [...tree.leaves[1]!] as [string, string, number, string];
      forged[2] = forged[2] === 1 ? 0 : 1;
      expect(await governance.verifyOnChain(contentHash, forged, tree.proof(1))).toBe(false);
    }
    expect(gas[0]).toBeGreaterThan(0n);
    // Storage is fixed-size: only calldata bytes of the values differ.
    expect(Number(gas[1]! - gas[0]!)).toBeLessThan(500);
  });
});
