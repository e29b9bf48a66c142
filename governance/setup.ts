// Connects the governance module to its chain while the operator leads: a local development
// chain it starts itself, or any JSON-RPC URL with the signer key from a Secret.
import type { KubeClient } from '../operator/kube/client.js';
import { isNotFound } from '../operator/kube/errors.js';
import { CoreResources } from '../operator/kube/resources.js';
import type { KubeObject } from '../operator/kube/object.js';
import { GovernanceChain } from './chain/anchor.js';
import { DEV_DEPLOYER_KEY, startDevChain, type DevChain } from './chain/devnode.js';

export interface GovernanceChainOptions {
  /** Start a local hardhat chain on 127.0.0.1 and deploy the contracts (development). */
  devChain?: boolean;
  rpcUrl?: string;
  chainId?: number;
  /** `<namespace>/<name>` of a Secret whose `privateKey` is the hex key that anchors. */
  signerSecret?: string;
  /** Hex key given directly (tests); the Secret wins when both are set. */
  signerKey?: string;
  anchorAddress?: string;
  registryAddress?: string;
}

interface Secret extends KubeObject {
  data?: Record<string, string>;
}

export async function signerKeyFromSecret(client: KubeClient, ref: string): Promise<string> {
  const [namespace, name] = ref.split('/');
  if (!namespace || !name) throw new Error(`--chain-signer-secret must be <namespace>/<name>, got "${ref}"`);
  const secret = await client.get<Secret>(CoreResources.secret, namespace, name);
  const encoded = secret.data?.['privateKey'];
  if (!encoded) throw new Error(`Secret ${ref} has no data.privateKey`);
  const key = Buffer.from(encoded, 'base64').toString('utf8').trim();
  if (!/^(0x)?[0-9a-fA-F]{64}$/.test(key)) throw new Error(`Secret ${ref}: data.privateKey must be a 32-byte hex key`);
  return key.startsWith('0x') ? key : `0x${key}`;
}

export interface ConnectedChain {
  chain: GovernanceChain;
  rpcUrl: string;
  signerKey: string;
  devChain?: DevChain;
  close(): Promise<void>;
}

/** ConfigMap (in the operator's namespace) remembering the deployed contracts, so a restart reuses them. */
export const CHAIN_CONFIGMAP = 'meshos-governance-chain';

interface ConfigMap extends KubeObject {
  data?: Record<string, string>;
}

async function rememberedAddresses(client: KubeClient, namespace: string, chainId: number, genesis: string): Promise<{ anchorAddress?: string; registryAddress?: string }> {
  try {
    const configMap = await client.get<ConfigMap>(CoreResources.configMap, namespace, CHAIN_CONFIGMAP);
    const data = configMap.data ?? {};
    // A new development chain has another genesis block: its old addresses mean nothing.
    if (data['chainId'] !== String(chainId) || data['genesisHash'] !== genesis) return {};
    return { ...(data['anchorAddress'] ? { anchorAddress: data['anchorAddress'] } : {}), ...(data['registryAddress'] ? { registryAddress: data['registryAddress'] } : {}) };
  } catch (error) {
    if (isNotFound(error)) return {};
    throw error;
  }
}

async function rememberAddresses(client: KubeClient, namespace: string, data: Record<string, string>): Promise<void> {
  const manifest = { apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: CHAIN_CONFIGMAP, namespace }, data };
  await client.patch(CoreResources.configMap, namespace, CHAIN_CONFIGMAP, manifest, { patchType: 'apply', fieldManager: 'meshos-governance', force: true });
}

async function genesisHash(rpcUrl: string): Promise<string> {
  const response = await fetch(rpcUrl, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ jsonrpc: '2.0', id: 1, method: 'eth_getBlockByNumber', params: ['0x0', false] }),
    signal: AbortSignal.timeout(10_000),
  });
  const body = (await response.json()) as { result?: { hash?: string } };
  return body.result?.hash ?? '';
}

export async function connectGovernanceChain(
  client: KubeClient,
  options: GovernanceChainOptions,
  namespace: string,
  onLog?: (line: string) => void,
): Promise<ConnectedChain | undefined> {
  let devChain: DevChain | undefined;
  let rpcUrl = options.rpcUrl;
  let chainId = options.chainId;
  let signerKey = options.signerSecret ? await signerKeyFromSecret(client, options.signerSecret) : options.signerKey;
  if (options.devChain && !rpcUrl) {
    devChain = await startDevChain(onLog ? { onLog } : {});
    rpcUrl = devChain.rpcUrl;
    chainId = devChain.chainId;
    signerKey ??= DEV_DEPLOYER_KEY;
  }
  if (!rpcUrl) return undefined;
  if (!chainId) throw new Error('--chain-id is required with --chain-rpc-url');
  if (!signerKey) throw new Error('--chain-signer-secret is required with --chain-rpc-url');
  try {
    const genesis = await genesisHash(rpcUrl);
    const remembered = await rememberedAddresses(client, namespace, chainId, genesis);
    const anchorAddress = options.anchorAddress ?? remembered.anchorAddress;
    const registryAddress = options.registryAddress ?? remembered.registryAddress;
    const chain = await GovernanceChain.connect({
      rpcUrl,
      chainId,
      signerKey,
      ...(anchorAddress ? { anchorAddress } : {}),
      ...(registryAddress ? { registryAddress } : {}),
    });
    await rememberAddresses(client, namespace, { chainId: String(chainId), genesisHash: genesis, rpcUrl, anchorAddress: chain.anchorAddress, registryAddress: chain.registryAddress });
    return {
      chain,
      rpcUrl,
      signerKey,
      ...(devChain ? { devChain } : {}),
      close: async () => {
        chain.destroy();
        await devChain?.stop();
      },
    };
  } catch (error) {
    await devChain?.stop();
    throw error;
  }
}
