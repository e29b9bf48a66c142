// Accepted ballots live in the cluster, in a ConfigMap `<proposal>-ballots` owned by the
// Proposal (deleted with it). Every write is a compare-and-swap on the ConfigMap's
// resourceVersion, so two ballots submitted at once are both kept (one retries), and an
// accepted ballot is stored before the voter is told it was accepted: restarts lose none.
import type { Proposal } from '../crds/types.js';
import type { KubeClient } from '../operator/kube/client.js';
import { isAlreadyExists, isConflict, isNotFound } from '../operator/kube/errors.js';
import type { KubeObject } from '../operator/kube/object.js';
import { CoreResources } from '../operator/kube/resources.js';
import type { SignedBallot } from './ballot.js';

export const BALLOTS_KEY = 'ballots.json';
export const PROPOSAL_LABEL = 'meshos.dev/proposal';
export const PROPOSAL_UID_ANNOTATION = 'meshos.dev/proposal-uid';

export interface StoredBallot extends SignedBallot {
  /** RFC 3339: when the operator accepted it (inside the voting period). */
  acceptedAt: string;
}

interface ConfigMap extends KubeObject {
  data?: Record<string, string>;
}

export function ballotsConfigMapName(proposalName: string): string {
  return `${proposalName}-ballots`.slice(0, 253);
}

function parseStored(configMap: ConfigMap | undefined, proposal: Proposal): StoredBallot[] {
  if (!configMap) return [];
  // A ConfigMap left by an earlier Proposal of the same name holds another vote.
  if (configMap.metadata.annotations?.[PROPOSAL_UID_ANNOTATION] !== proposal.metadata.uid) return [];
  const text = configMap.data?.[BALLOTS_KEY];
  if (!text) return [];
  const parsed: unknown = JSON.parse(text);
  return Array.isArray(parsed) ? (parsed as StoredBallot[]) : [];
}

export class BallotStore {
  constructor(private readonly client: KubeClient) {}

  private async read(proposal: Proposal): Promise<ConfigMap | undefined> {
    try {
      return await this.client.get<ConfigMap>(CoreResources.configMap, proposal.metadata.namespace, ballotsConfigMapName(proposal.metadata.name ?? ''));
    } catch (error) {
      if (isNotFound(error)) return undefined;
      throw error;
    }
  }

  async list(proposal: Proposal): Promise<StoredBallot[]> {
    return parseStored(await this.read(proposal), proposal);
  }

  /**
   * Runs `admit` on the ballots stored so far and appends what it returns, atomically; retries
   * on a concurrent write. `admit` throws to refuse (nothing is written).
   */
  async append(proposal: Proposal, admit: (accepted: readonly StoredBallot[]) => StoredBallot): Promise<StoredBallot> {
    for (let attempt = 0; attempt < 20; attempt += 1) {
      const current = await this.read(proposal);
      const accepted = parseStored(current, proposal);
      const ballot = admit(accepted);
      const data = { [BALLOTS_KEY]: JSON.stringify([...accepted, ballot]) };
      try {
        if (!current) {
          await this.client.create<ConfigMap>(CoreResources.configMap, this.manifest(proposal, data));
        } else {
          const replacement = this.manifest(proposal, data);
          replacement.metadata.resourceVersion = current.metadata.resourceVersion ?? '';
          await this.client.replace<ConfigMap>(CoreResources.configMap, replacement);
        }
        return ballot;
      } catch (error) {
        if (!isConflict(error) && !isAlreadyExists(error)) throw error;
      }
    }
    throw new Error(`ballots of ${proposal.metadata.namespace ?? ''}/${proposal.metadata.name ?? ''}: too many concurrent writes, try again`);
  }

  private manifest(proposal: Proposal, data: Record<string, string>): ConfigMap {
    const name = proposal.metadata.name ?? '';
    return {
      apiVersion: 'v1',
      kind: 'ConfigMap',
      metadata: {
        name: ballotsConfigMapName(name),
        namespace: proposal.metadata.namespace ?? '',
        labels: { [PROPOSAL_LABEL]: name, 'app.kubernetes.io/managed-by': 'meshos' },
        annotations: { [PROPOSAL_UID_ANNOTATION]: proposal.metadata.uid ?? '' },
        ownerReferences: [{ apiVersion: 'meshos.dev/v1alpha1', kind: 'Proposal', name, uid: proposal.metadata.uid ?? '', controller: true, blockOwnerDeletion: false }],
      },
      data,
    };
  }
}
