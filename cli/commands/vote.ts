// `mesh vote --proposal <name> --choice for --key <file>`: signs the EIP-712 ballot with a
// local key and submits it through the same admission rules as the portal (the operator checks
// every ballot again when it tallies). A refused ballot exits 1 with the rule it broke.
import { readFileSync } from 'node:fs';
import type { Command } from 'commander';
import { Wallet } from 'ethers';
import type { Mesh, Proposal } from '../../crds/types.js';
import { nextNonce } from '../../governance/admission.js';
import { signBallot } from '../../governance/ballot.js';
import { Governance, anchorStatus, tallyStatus, type ReadOnlyStore } from '../../governance/service.js';
import { CHOICES, type Choice } from '../../governance/tally.js';
import { MeshOsResources } from '../../operator/kube/resources.js';
import { UsageError, type CliIo } from '../io.js';
import { ObjectError, addKubeOptions, objectRef, withKube, type KubeFlags } from '../kube.js';

interface VoteFlags extends Partial<KubeFlags> {
  proposal: string;
  choice: string;
  key: string;
  reason?: string;
}

/** Reads a hex private key (0x and 64 hex digits, surrounding whitespace ignored). */
export function readKey(file: string): Wallet {
  let text: string;
  try {
    text = readFileSync(file, 'utf8').trim();
  } catch (error) {
    throw new UsageError(`--key ${file}: ${(error as Error).message}`);
  }
  const hex = text.startsWith('0x') ? text : `0x${text}`;
  if (!/^0x[0-9a-fA-F]{64}$/.test(hex)) throw new UsageError(`--key ${file}: must hold a 32-byte hex private key (64 hex digits, optional 0x)`);
  return new Wallet(hex);
}

function storeOf<T extends { metadata: { name?: string; namespace?: string } }>(items: T[], namespaced: boolean): ReadOnlyStore<T> {
  const key = (item: T): string => (namespaced ? `${item.metadata.namespace ?? ''}/${item.metadata.name ?? ''}` : item.metadata.name ?? '');
  return { get: (k) => items.find((item) => key(item) === k), list: () => items };
}

export async function vote(flags: VoteFlags, io: CliIo): Promise<void> {
  if (!(CHOICES as readonly string[]).includes(flags.choice)) throw new UsageError(`--choice must be one of ${CHOICES.join(', ')}, got "${flags.choice}"`);
  const wallet = readKey(flags.key);
  await withKube(flags, async ({ client, namespace }) => {
    const ref = objectRef('Proposal', namespace, flags.proposal);
    let proposal: Proposal;
    try {
      proposal = await client.get<Proposal>(MeshOsResources.proposal, namespace, flags.proposal);
    } catch (error) {
      throw new ObjectError(ref, error);
    }
    let mesh: Mesh;
    try {
      mesh = await client.get<Mesh>(MeshOsResources.mesh, undefined, proposal.spec.meshRef);
    } catch (error) {
      throw new ObjectError(objectRef('Mesh', undefined, proposal.spec.meshRef), error);
    }
    const tally = tallyStatus(proposal);
    const anchor = anchorStatus(proposal);
    if (!tally || !anchor) throw new UsageError(`proposal ${namespace}/${flags.proposal} is ${proposal.status?.phase ?? 'not analysed yet'}: voting has not opened`);
    const governance = new Governance({ client, meshes: storeOf([mesh], false), agents: storeOf([], true), proposals: storeOf([proposal], true) });
    const key = `${namespace}/${flags.proposal}`;
    const stored = await governance.ballots.list(proposal);
    const ballot = await signBallot(wallet, { chainId: anchor.chainId, verifyingContract: anchor.contract }, {
      proposal: key,
      contentHash: tally.contentHash,
      voter: wallet.address,
      nonce: nextNonce(stored, wallet.address),
      choice: flags.choice as Choice,
      reason: flags.reason ?? '',
    });
    try {
      const { ballot: accepted, tally: live } = await governance.submitBallot(key, ballot);
      io.stdout.write(`ballot accepted: ${accepted.choice} on ${key} by ${wallet.address} (nonce ${accepted.nonce}); weighted approval now ${live.approvalPercent}% (needs ${live.thresholds.approval}%)\n`);
    } catch (error) {
      // A refused ballot ("ballot rejected (<rule>): ...") or a failed write: exit 1.
      throw new ObjectError(ref, error);
    }
  });
}

export function registerVoteCommand(program: Command, io: CliIo): void {
  addKubeOptions(
    program
      .command('vote')
      .description('Sign an EIP-712 ballot on a Proposal with a local key and submit it')
      .requiredOption('--proposal <name>', 'name of the Proposal (in -n)')
      .requiredOption('--choice <choice>', `one of ${CHOICES.join(', ')}`)
      .requiredOption('--key <file>', 'file holding the voter\'s hex private key (a registered voter of the mesh)')
      .option('--reason <text>', 'reason recorded with the ballot (at most 1000 characters)'),
    { outputs: [], allNamespaces: false, namespaceHelp: "namespace of the Proposal (default: the context's namespace, else default)" },
  )
    .addHelpText('after', '\nVoting again with a later ballot replaces your earlier vote while voting is open (the last one wins).\n\nExample:\n  mesh vote --proposal rebalance-trust-weights -n meshos-demo --choice for --key ~/.meshos/voter.key')
    .action((flags: VoteFlags) => vote(flags, io));
}
