// Connects the governance module to its chain while the operator leads: a local development
// chain it starts itself, or any JSON-RPC URL with the signer key from a Secret.
import type { KubeClient } from '../operator/kube/client.js';
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
  devChain?: DevChain;
  close(): Promise<void>;
}

export async function connectGovernanceChain(client: KubeClient, options: GovernanceChainOptions, onLog?: (line: string) => void): Promise<ConnectedChain | undefined> {
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
    const chain = await GovernanceChain.connect({
      rpcUrl,
      chainId,
      signerKey,
      ...(options.anchorAddress ? { anchorAddress: options.anchorAddress } : {}),
      ...(options.registryAddress ? { registryAddress: options.registryAddress } : {}),
    });
    return {
      chain,
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
