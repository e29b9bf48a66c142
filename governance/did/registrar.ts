// Glue: registers the DID of every Mesh (spec.did) and of every Agent of such a Mesh
// (`<mesh did>:<namespace>:<name>`) on the governance chain, and records them: the Mesh in
// `status.anchors.identity`, the Agent in `status.did`. Runs while the operator leads.
import type { Agent, Mesh } from '../../crds/types.js';
import type { KubeClient } from '../../operator/kube/client.js';
import { applyStatus } from '../../operator/kube/apply.js';
import { getErrorMessage } from '../../operator/kube/errors.js';
import { objectKey } from '../../operator/kube/object.js';
import { MeshOsResources } from '../../operator/kube/resources.js';
import type { Logger } from '../../operator/log.js';
import type { GovernanceChain } from '../chain/anchor.js';
import type { ReadOnlyStore } from '../service.js';
import { identityWallet, registerDid } from './registry.js';
import { createDidResolver } from './resolve.js';

export const DID_FIELD_MANAGER = 'meshos-governance-did';

export function agentDid(mesh: Mesh, agent: Agent): string | undefined {
  return mesh.spec.did ? `${mesh.spec.did}:${agent.metadata.namespace ?? ''}:${agent.metadata.name ?? ''}` : undefined;
}

export class IdentityRegistrar {
  private readonly done = new Set<string>();

  constructor(
    private readonly deps: { client: KubeClient; chain: GovernanceChain; operatorKey: string; rpcUrl: string; meshes: ReadOnlyStore<Mesh>; agents: ReadOnlyStore<Agent>; logger: Logger },
  ) {}

  /** One pass over the caches; registers what is new. Errors are logged and retried next pass. */
  async syncOnce(): Promise<void> {
    const { chain } = this.deps;
    for (const mesh of this.deps.meshes.list()) {
      const did = mesh.spec.did;
      if (!did) continue;
      const recorded = (mesh.status?.anchors as { identity?: { did?: string; chainId?: number; registry?: string } } | undefined)?.identity;
      if (!(recorded?.did === did && recorded.chainId === chain.chainId && recorded.registry === chain.registryAddress) && !this.done.has(did)) {
        try {
          const registration = await registerDid(chain, this.deps.operatorKey, did);
          await applyStatus(this.deps.client, MeshOsResources.mesh, mesh.metadata.name ?? '', { anchors: { identity: registration } }, DID_FIELD_MANAGER);
          this.done.add(did);
          this.deps.logger.info({ did, address: registration.address }, `Registered ${did} on chain ${chain.chainId}`);
        } catch (error) {
          this.deps.logger.warn({ did, error: getErrorMessage(error) }, `Failed to register ${did}`);
        }
      }
      for (const agent of this.deps.agents.list().filter((a) => a.spec.meshRef === mesh.metadata.name)) {
        const adid = agentDid(mesh, agent);
        if (!adid || this.done.has(adid) || agent.status?.did === adid) continue;
        try {
          await registerDid(chain, this.deps.operatorKey, adid);
          await applyStatus(this.deps.client, MeshOsResources.agent, objectKey(agent), { did: adid, meshDid: did }, DID_FIELD_MANAGER);
          this.done.add(adid);
        } catch (error) {
          this.deps.logger.warn({ did: adid, error: getErrorMessage(error) }, `Failed to register ${adid}`);
        }
      }
    }
  }

  /** A resolver for did:ethr on the chain and for the did:mesh identities this operator registered. */
  resolver(): ReturnType<typeof createDidResolver> {
    const { chain } = this.deps;
    return createDidResolver([{ chainId: chain.chainId, rpcUrl: this.deps.rpcUrl, registry: chain.registryAddress }], (did) => {
      const known = this.deps.meshes.list().some((m) => m.spec.did === did) || this.deps.agents.list().some((a) => a.status?.did === did);
      if (!known) return undefined;
      return [{ chainId: chain.chainId, address: identityWallet(this.deps.operatorKey, did).address.toLowerCase() }];
    });
  }
}
