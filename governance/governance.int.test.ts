// The governance lifecycle end to end against the real control plane and a local chain:
// analysis and AI votes, signed ballots through the portal, an operator restart mid-vote,
// tally, anchoring (once, across restarts), and the approved change applied to the Mesh.
import { Wallet } from 'ethers';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Agent, Mesh, Proposal } from '../crds/types.js';
import type { KubeClient } from '../operator/kube/client.js';
import type { KubeObject } from '../operator/kube/object.js';
import { CoreResources, MeshOsResources } from '../operator/kube/resources.js';
import { testAgent } from '../test/support/fixtures.js';
import { createTestNamespace, deleteNamespace, testClient } from '../test/support/kube.js';
import { startTestOperator, type RunningOperator } from '../test/support/operator.js';
import { eventually } from '../test/support/wait.js';
import { signBallot, type SignedBallot } from './ballot.js';
import { GovernanceChain } from './chain/anchor.js';
import { DEV_DEPLOYER_KEY, startDevChain, type DevChain } from './chain/devnode.js';
import { ballotsConfigMapName } from './ballot-store.js';
import type { AnchorStatus, TallyStatus } from './service.js';

const voters = [new Wallet('0x' + 'a1'.repeat(32)), new Wallet('0x' + 'b2'.repeat(32)), new Wallet('0x' + 'c3'.repeat(32))];
const outsider = new Wallet('0x' + 'd4'.repeat(32));
const NEW_WEIGHTS = { credentials: 25, history: 20, attestations: 20, compliance: 20, uptime: 15 };

describe('governance lifecycle', () => {
  let client: KubeClient;
  let namespace: string;
  let chain: DevChain;
  let operator: RunningOperator | undefined;
  const meshName = `gov-${Date.now().toString(36)}`;

  const start = async (): Promise<RunningOperator> => {
    // The anchoring key comes from a Secret, as in production.
    const running = await startTestOperator({ governance: { chain: { rpcUrl: chain.rpcUrl, chainId: chain.chainId, signerSecret: `${namespace}/chain-signer` }, portal: { devMode: true } } });
    await eventually('portal serving', () => (running.manager.portalPort > 0 ? true : undefined), 60_000);
    return running;
  };
  const portal = (): string => `http://127.0.0.1:${operator?.manager.portalPort ?? 0}`;
  const proposal = (name: string): Promise<Proposal> => client.get<Proposal>(MeshOsResources.proposal, namespace, name);

  beforeAll(async () => {
    client = await testClient();
    namespace = await createTestNamespace(client, 'gov');
    chain = await startDevChain();
    await client.create(CoreResources.secret, { apiVersion: 'v1', kind: 'Secret', metadata: { name: 'chain-signer', namespace }, data: { privateKey: Buffer.from(DEV_DEPLOYER_KEY.slice(2)).toString('base64') } } as KubeObject);
    const mesh: Mesh = {
      apiVersion: 'meshos.dev/v1alpha1',
      kind: 'Mesh',
      metadata: { name: meshName },
      spec: {
        did: `did:mesh:test:${meshName}`,
        scheduling: { schedulerName: 'default-scheduler' },
        governance: { voters: voters.map((w, i) => ({ id: i === 2 ? `did:ethr:${w.address}` : w.address, weight: 1, group: 'council' as const })) },
      },
    };
    await client.create(MeshOsResources.mesh, mesh);
    for (const [i, certs] of [['soc2', 'iso27001'], [], ['soc2']].entries()) {
      const agent: Agent = testAgent(namespace, `agent-${i}`, meshName, 0);
      agent.spec.certifications = certs;
      await client.create(MeshOsResources.agent, agent);
    }
    operator = await start();
  }, 180_000);

  afterAll(async () => {
    await operator?.stop();
    await chain?.stop();
    await client.delete(MeshOsResources.mesh, undefined, meshName).catch(() => undefined);
    await deleteNamespace(client, namespace);
  });

  async function vote(name: string, wallet: Wallet, choice: 'for' | 'against' | 'abstain', nonce = 0): Promise<{ status: number; body: { rule?: string; error?: string } }> {
    const p = await proposal(name);
    const anchor = p.status?.anchor as unknown as AnchorStatus;
    const tally = p.status?.tally as unknown as TallyStatus;
    const ballot = await signBallot(wallet, { chainId: anchor.chainId, verifyingContract: anchor.contract }, { proposal: `${namespace}/${name}`, contentHash: tally.contentHash, voter: wallet.address, nonce, choice, reason: `${choice} from test` });
    return post(name, ballot);
  }
  async function post(name: string, ballot: SignedBallot | Record<string, unknown>): Promise<{ status: number; body: { rule?: string; error?: string } }> {
    const response = await fetch(`${portal()}/api/proposals/${namespace}/${name}/ballots`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(ballot) });
    return { status: response.status, body: (await response.json()) as { rule?: string } };
  }

  it('analyses, collects ballots across a restart, tallies, anchors once and applies the change gradually', async () => {
    await client.create(MeshOsResources.proposal, {
      apiVersion: 'meshos.dev/v1alpha1',
      kind: 'Proposal',
      metadata: { name: 'weights', namespace },
      spec: { meshRef: meshName, title: 'Weigh uptime and compliance higher', proposer: { did: 'did:mesh:test:alice', kind: 'human' }, change: { patch: { spec: { trust: { weights: NEW_WEIGHTS } } } }, votingPeriod: '25s', transitionPeriod: '10m' },
    } satisfies Proposal);
    const voting = await eventually('proposal voting', async () => {
      const p = await proposal('weights');
      return p.status?.phase === 'Voting' ? p : undefined;
    }, 60_000);
    const impact = voting.status?.impact as { trust?: { agents: number; tierChanges: number } };
    expect(impact.trust?.agents).toBe(3);
    const tally = voting.status?.tally as unknown as TallyStatus;
    expect(tally.aiVotes.map((v) => v.representative)).toEqual(['meta-coordinator', 'compliance', 'economic', 'ethics']);
    for (const v of tally.aiVotes) expect(v.explanation.length).toBeGreaterThan(10);
    expect((voting.status?.anchor as unknown as AnchorStatus).state).toBe('Pending');
    expect(voting.status?.conditions?.find((c) => c.type === 'Analyzed')?.status).toBe('True');

    expect((await vote('weights', voters[0]!, 'for')).status).toBe(201);
    const replay = await vote('weights', voters[0]!, 'for');
    expect(replay).toMatchObject({ status: 409, body: { rule: 'replay' } });
    expect(await vote('weights', outsider, 'for')).toMatchObject({ status: 403, body: { rule: 'unregistered-voter' } });

    // Restart mid-vote: the accepted ballot is in the cluster, not in the operator.
    await operator?.stop();
    operator = await start();
    expect((await vote('weights', voters[1]!, 'for')).status).toBe(201);
    expect((await vote('weights', voters[2]!, 'against')).status).toBe(201);
    const published = (await (await fetch(`${portal()}/api/proposals/${namespace}/weights/ballots`)).json()) as { ballots: unknown[] };
    expect(published.ballots).toHaveLength(3);

    const executed = await eventually('proposal executed', async () => {
      const p = await proposal('weights');
      return p.status?.phase === 'Executed' ? p : undefined;
    }, 90_000);
    const anchor = executed.status?.anchor as unknown as AnchorStatus;
    expect(anchor).toMatchObject({ state: 'Anchored', chainId: 31337, outcome: 'Approved' });
    expect(anchor.txHash).toMatch(/^0x[0-9a-f]{64}$/);
    const result = (executed.status?.tally as unknown as TallyStatus).result;
    expect(result?.human).toMatchObject({ for: 2, against: 1, ballots: 3 });
    for (const type of ['Analyzed', 'Tallied', 'Anchored', 'Executed']) expect(executed.status?.conditions?.find((c) => c.type === type)?.status).toBe('True');

    const mesh = await client.get<Mesh>(MeshOsResources.mesh, undefined, meshName);
    expect(mesh.spec.trust?.weights).toEqual(NEW_WEIGHTS);
    expect(mesh.spec.trust?.transitionPeriod).toBe('10m');
    expect(mesh.status?.appliedProposals?.map((a) => a.name)).toEqual(['weights']);
    // The trust module phases the new weights in from the old ones over the transition period.
    const transition = await eventually('trust transition started', async () => {
      const m = await client.get<Mesh>(MeshOsResources.mesh, undefined, meshName);
      const trust = m.status?.trust as { weights?: unknown; previousWeights?: { credentials: number }; transitionPeriod?: string } | undefined;
      return trust?.previousWeights ? trust : undefined;
    }, 60_000);
    expect(transition).toMatchObject({ weights: NEW_WEIGHTS, previousWeights: { credentials: 30 }, transitionPeriod: '10m' });

    // Anyone can verify: the portal rebuilds the root and the contract proves each ballot.
    const verified = (await (await fetch(`${portal()}/api/proposals/${namespace}/weights/verify`)).json()) as { ok: boolean; onChainRoot: string };
    expect(JSON.stringify(verified)).toContain('"ok":true');
    expect(verified.onChainRoot).toBe(anchor.ballotsRoot);

    // Another restart: nothing is anchored or applied twice.
    await operator?.stop();
    operator = await start();
    await new Promise((r) => setTimeout(r, 3000));
    const after = await proposal('weights');
    expect((after.status?.anchor as unknown as AnchorStatus).txHash).toBe(anchor.txHash);
    const onChain = await GovernanceChain.connect({ rpcUrl: chain.rpcUrl, chainId: chain.chainId, signerKey: DEV_DEPLOYER_KEY, anchorAddress: anchor.contract });
    const logs = await onChain.anchorContract.queryFilter(onChain.anchorContract.filters['ProposalAnchored']!(anchor.contentHash), 0, 'latest');
    onChain.destroy();
    expect(logs).toHaveLength(1);
    expect((await client.get<Mesh>(MeshOsResources.mesh, undefined, meshName)).status?.appliedProposals).toHaveLength(1);

    const events = await client.list<KubeObject & { reason?: string; regarding?: { name?: string } }>(CoreResources.event, namespace);
    const reasons = events.items.filter((e) => e.regarding?.name === 'weights').map((e) => e.reason);
    for (const reason of ['VotingOpen', 'Approved', 'Anchored', 'Executed']) expect(reasons).toContain(reason);
    const store = await client.get<KubeObject & { data?: Record<string, string> }>(CoreResources.configMap, namespace, ballotsConfigMapName('weights'));
    expect(JSON.parse(store.data?.['ballots.json'] ?? '[]')).toHaveLength(3);
  });

  it('registers the Mesh and its Agents as DIDs and resolves did:mesh with CAIP-10 accounts', async () => {
    const mesh = await eventually('mesh identity recorded', async () => {
      const m = await client.get<Mesh>(MeshOsResources.mesh, undefined, meshName);
      return (m.status?.anchors as { identity?: { address: string } } | undefined)?.identity ? m : undefined;
    }, 60_000);
    const identity = (mesh.status?.anchors as { identity: { address: string; ethrDid: string } }).identity;
    const did = `did:mesh:test:${meshName}`;
    const resolved = (await (await fetch(`${portal()}/api/dids/${encodeURIComponent(did)}`)).json()) as { didDocument: { alsoKnownAs: string[]; verificationMethod: { blockchainAccountId: string }[]; service: { serviceEndpoint: string }[] } };
    expect(resolved.didDocument.alsoKnownAs).toEqual([identity.ethrDid]);
    expect(resolved.didDocument.verificationMethod[0]?.blockchainAccountId).toBe(`eip155:31337:${identity.address}`);
    expect(resolved.didDocument.service[0]?.serviceEndpoint).toBe(did);
    const agent = await eventually('agent DID recorded', async () => {
      const a = await client.get<Agent>(MeshOsResources.agent, namespace, 'agent-0');
      return a.status?.did ? a : undefined;
    }, 60_000);
    expect(agent.status?.did).toBe(`${did}:${namespace}:agent-0`);
  });

  it('lets a human supermajority veto whatever the AI votes, and refuses ballots after the period', async () => {
    await client.create(MeshOsResources.proposal, {
      apiVersion: 'meshos.dev/v1alpha1',
      kind: 'Proposal',
      metadata: { name: 'lower-oversight', namespace },
      spec: { meshRef: meshName, title: 'Give AI more power', critical: true, proposer: { did: 'did:mesh:test:bot', kind: 'ai' }, change: { patch: { spec: { governance: { humanWeight: 40, aiWeight: 60 } } } }, votingPeriod: '15s' },
    } satisfies Proposal);
    await eventually('proposal voting', async () => ((await proposal('lower-oversight')).status?.phase === 'Voting' ? true : undefined), 60_000);
    for (const wallet of voters) expect((await vote('lower-oversight', wallet, 'against')).status).toBe(201);
    const vetoed = await eventually('proposal vetoed and anchored', async () => {
      const p = await proposal('lower-oversight');
      return p.status?.phase === 'Vetoed' && (p.status.anchor as unknown as AnchorStatus).state === 'Anchored' ? p : undefined;
    }, 90_000);
    expect((vetoed.status?.tally as unknown as TallyStatus).result?.reason).toMatch(/veto/);
    expect(await vote('lower-oversight', voters[0]!, 'for', 1)).toMatchObject({ status: 403, body: { rule: 'outside-voting-period' } });
    const mesh = await client.get<Mesh>(MeshOsResources.mesh, undefined, meshName);
    expect(mesh.spec.governance?.humanWeight ?? 60).toBe(60);
  });
});
