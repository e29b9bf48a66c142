// Who may see which agents. A caller authenticates with a Kubernetes service-account bearer
// token (verified by TokenReview, through the memory service's resolver) or with a client
// certificate that the server's mTLS handshake already verified (its subject CN is the
// user, O the groups, as for the API server). It sees the namespaces where a
// SubjectAccessReview allows it to `list` Agents.
import type { Metadata } from '@grpc/grpc-js';
import type { PeerCertificate } from 'node:tls';
import { GROUP } from '../../crds/types.js';
import { tokenReviewCallerResolver } from '../../kernel/memory/callers.js';
import type { KubeClient } from '../../operator/kube/client.js';
import { getErrorMessage } from '../../operator/kube/errors.js';
import { DiscoveryError } from './errors.js';

/** The namespaces a caller may see, or every namespace. */
export type Visibility = { readonly all: true } | { readonly all: false; readonly namespaces: ReadonlySet<string> };

export interface CallIdentity {
  readonly metadata: Metadata;
  /** The verified client certificate, when the connection used mTLS. */
  readonly peerCertificate?: PeerCertificate | undefined;
}

export interface Principal {
  /** Stable identity used for rate limiting and logs. */
  readonly id: string;
  visibility(namespaces: readonly string[]): Promise<Visibility>;
}

/** Authenticates a call; rejects with a DiscoveryError (UNAUTHENTICATED, UNAVAILABLE). */
export type Authenticator = (call: CallIdentity) => Promise<Principal>;

/** Development only: everyone sees everything, identified by the peer address. */
export function anonymousAuthenticator(): Authenticator {
  return (call) => Promise.resolve({ id: `anonymous:${call.metadata.get('x-forwarded-for')[0]?.toString() ?? 'local'}`, visibility: () => Promise.resolve({ all: true } as const) });
}

interface SubjectAccessReview {
  status?: { allowed?: boolean; denied?: boolean; reason?: string };
}

export interface KubernetesAuthOptions {
  readonly client: KubeClient;
  /** How long an access decision is believed (default 30 s). */
  readonly cacheMillis?: number;
  readonly now?: () => number;
}

/** TokenReview / client certificate + SubjectAccessReview (list agents.meshos.dev per namespace). */
export function kubernetesAuthenticator(options: KubernetesAuthOptions): Authenticator {
  const now = options.now ?? Date.now;
  const cacheMillis = options.cacheMillis ?? 30_000;
  const resolveToken = tokenReviewCallerResolver({ client: options.client, findAgent: () => undefined, cacheMillis, clock: now });
  const decisions = new Map<string, { allowed: boolean; until: number }>();

  const mayList = async (user: string, groups: readonly string[], namespace: string): Promise<boolean> => {
    const cacheKey = `${user}\n${groups.join(',')}\n${namespace}`;
    const cached = decisions.get(cacheKey);
    if (cached && cached.until > now()) return cached.allowed;
    const review = await options.client.request<SubjectAccessReview>('POST', '/apis/authorization.k8s.io/v1/subjectaccessreviews', {
      body: {
        apiVersion: 'authorization.k8s.io/v1',
        kind: 'SubjectAccessReview',
        spec: { user, groups, resourceAttributes: { group: GROUP, resource: 'agents', verb: 'list', ...(namespace === '' ? {} : { namespace }) } },
      },
    });
    const allowed = review.status?.allowed === true && review.status.denied !== true;
    if (decisions.size > 50_000) decisions.clear();
    decisions.set(cacheKey, { allowed, until: now() + cacheMillis });
    return allowed;
  };

  const principal = (user: string, groups: readonly string[]): Principal => ({
    id: user,
    async visibility(namespaces) {
      try {
        // Cluster-wide permission first: one review instead of one per namespace.
        if (await mayList(user, groups, '')) return { all: true };
        const allowed = await Promise.all(namespaces.map(async (namespace) => ((await mayList(user, groups, namespace)) ? namespace : undefined)));
        return { all: false, namespaces: new Set(allowed.filter((namespace): namespace is string => namespace !== undefined)) };
      } catch (error) {
        throw new DiscoveryError('UNAVAILABLE', `access could not be checked with the API server: ${getErrorMessage(error)}`);
      }
    },
  });

  return async (call) => {
    const certificate = call.peerCertificate;
    const commonName = certificate?.subject?.CN;
    if (commonName) {
      const organisations = certificate.subject.O;
      const groups = [...(Array.isArray(organisations) ? organisations : organisations ? [organisations] : []), 'system:authenticated'];
      return principal(Array.isArray(commonName) ? (commonName[0] ?? '') : commonName, groups);
    }
    let caller;
    try {
      caller = await resolveToken(call.metadata);
    } catch (error) {
      throw new DiscoveryError('UNAVAILABLE', `the token could not be reviewed by the API server: ${getErrorMessage(error)}`);
    }
    if (!caller) throw new DiscoveryError('UNAUTHENTICATED', 'a valid service-account bearer token (authorization: Bearer <token>) or client certificate is required');
    const namespace = caller.id.split(':')[2] ?? '';
    return principal(caller.id, ['system:serviceaccounts', `system:serviceaccounts:${namespace}`, 'system:authenticated']);
  };
}
