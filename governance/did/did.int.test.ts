// DIDs on a real local chain: ERC-1056 registration (ethr-did-registry's own artifact),
// resolution with the standard ethr-did-resolver, and did:mesh documents with CAIP-10 accounts.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { GovernanceChain } from '../chain/anchor.js';
import { DEV_DEPLOYER_KEY, startDevChain, type DevChain } from '../chain/devnode.js';
import { registerDid } from './registry.js';
import { createDidResolver } from './resolve.js';

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

describe('mesh and agent DIDs', () => {
  it('registers identities once and resolves did:ethr and did:mesh', async () => {
    const meshDid = 'did:mesh:acme:prod';
    const agentDid = 'did:mesh:acme:prod:agents:summarizer';
    const mesh = await registerDid(governance, DEV_DEPLOYER_KEY, meshDid);
    const agent = await registerDid(governance, DEV_DEPLOYER_KEY, agentDid);
    expect(mesh.txHash).toMatch(/^0x[0-9a-f]{64}$/);
    expect(agent.address).not.toBe(mesh.address);
    const again = await registerDid(governance, DEV_DEPLOYER_KEY, meshDid);
    expect(again.address).toBe(mesh.address);
    expect(again.txHash).toBeUndefined();

    const registered = new Map([[meshDid, mesh], [agentDid, agent]]);
    const resolver = createDidResolver([{ chainId: chain.chainId, rpcUrl: chain.rpcUrl, registry: governance.registryAddress }], (did) => {
      const r = registered.get(did);
      return r ? [{ chainId: r.chainId, address: r.address }] : undefined;
    });
    const ethr = await resolver.resolve(mesh.ethrDid);
    expect(ethr.didDocument?.service?.[0]).toMatchObject({ type: 'MeshOSIdentity', serviceEndpoint: meshDid });

    const doc = (await resolver.resolve(meshDid)).didDocument;
    expect(doc?.id).toBe(meshDid);
    expect(doc?.alsoKnownAs).toEqual([`did:ethr:0x7a69:${mesh.address}`]);
    expect(doc?.verificationMethod?.[0]).toMatchObject({ blockchainAccountId: `eip155:31337:${mesh.address}`, type: 'EcdsaSecp256k1RecoveryMethod2020' });
    expect(doc?.service?.[0]?.serviceEndpoint).toBe(meshDid);
    expect((await resolver.resolve(agentDid)).didDocument?.alsoKnownAs?.[0]).toContain(agent.address);
    expect((await resolver.resolve('did:mesh:acme:unknown')).didResolutionMetadata.error).toBe('notFound');
  });
});
