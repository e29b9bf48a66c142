// Development mode: the governance module starts its own hardhat chain on 127.0.0.1, deploys
// the contracts, remembers their addresses in a ConfigMap and stops the chain on close.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { KubeClient } from '../operator/kube/client.js';
import type { KubeObject } from '../operator/kube/object.js';
import { CoreResources } from '../operator/kube/resources.js';
import { createTestNamespace, deleteNamespace, testClient } from '../test/support/kube.js';
import { CHAIN_CONFIGMAP, connectGovernanceChain } from './setup.js';

describe('governance chain in development mode', () => {
  let client: KubeClient;
  let namespace: string;

  beforeAll(async () => {
    client = await testClient();
    namespace = await createTestNamespace(client, 'gov-setup');
  });
  afterAll(async () => deleteNamespace(client, namespace));

  it('starts a local chain on 127.0.0.1, deploys the contracts and records them', async () => {
    const connected = await connectGovernanceChain(client, { devChain: true }, namespace);
    expect(connected?.rpcUrl).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/);
    expect(connected?.chain.chainId).toBe(31337);
    const code = await connected!.chain.provider.getCode(connected!.chain.anchorAddress);
    expect(code.length).toBeGreaterThan(100);
    const recorded = await client.get<KubeObject & { data?: Record<string, string> }>(CoreResources.configMap, namespace, CHAIN_CONFIGMAP);
    expect(recorded.data).toMatchObject({ chainId: '31337', anchorAddress: connected!.chain.anchorAddress, registryAddress: connected!.chain.registryAddress });
    const rpcUrl = connected!.rpcUrl;
    await connected!.close();
    await expect(fetch(rpcUrl, { method: 'POST', body: '{}' })).rejects.toThrow();
    await expect(connectGovernanceChain(client, { rpcUrl, signerKey: '0x' + '11'.repeat(32) }, namespace)).rejects.toThrow(/--chain-id is required/);
  });
});
