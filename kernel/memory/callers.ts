// Who is calling the memory service, and how far they are trusted.
import { createHash } from 'node:crypto';
import type { Metadata } from '@grpc/grpc-js';
import type { KubeClient } from '../../operator/kube/client.js';
import type { Clock } from './pools.js';

export interface Caller {
  /** Stable identity, e.g. `system:serviceaccount:team-a:planner`. */
  readonly id: string;
  /** 0..100. */
  readonly trustScore: number;
}

/**
 * Identifies the caller of one RPC from its metadata. Resolves undefined when the caller
 * is not authenticated; rejects only when the identity could not be checked (an outage).
 */
export type CallerResolver = (metadata: Metadata) => Promise<Caller | undefined>;

/** The bearer token of the `authorization` metadata, if any. */
export function bearerToken(metadata: Metadata): string | undefined {
  const value = metadata.get('authorization')[0];
  if (typeof value !== 'string') return undefined;
  const match = /^Bearer\s+(\S+)\s*$/i.exec(value);
  return match?.[1];
}

/** Fixed tokens to callers: for tests and benchmarks. */
export function staticCallerResolver(callersByToken: Readonly<Record<string, Caller>>): CallerResolver {
  const callers = new Map(Object.entries(callersByToken));
  return (metadata) => {
    const token = bearerToken(metadata);
    return Promise.resolve(token === undefined ? undefined : callers.get(token));
  };
}

export interface ServiceAccountRef {
  readonly namespace: string;
  readonly name: string;
}

/** The part of an Agent the resolver reads. */
export interface AgentTrust {
  readonly status?: { readonly trust?: { readonly score?: number } };
}

export interface TokenReviewResolverOptions {
  readonly client: KubeClient;
  /** The Agent running as this service account (from the operator's informer cache), if any. */
  readonly findAgent: (serviceAccount: ServiceAccountRef) => Promise<AgentTrust | undefined> | AgentTrust | undefined;
  /** Audiences the token must carry; the API server's default when empty. */
  readonly audiences?: readonly string[];
  /** How long a reviewed token is believed without asking again (default 30 s). */
  readonly cacheMillis?: number;
  readonly clock?: Clock;
}

interface TokenReview {
  status?: {
    authenticated?: boolean;
    user?: { username?: string };
    error?: string;
  };
}

const SERVICE_ACCOUNT_PREFIX = 'system:serviceaccount:';

/** `system:serviceaccount:<ns>:<name>` to its parts; undefined for other users. */
export function parseServiceAccount(username: string): ServiceAccountRef | undefined {
  if (!username.startsWith(SERVICE_ACCOUNT_PREFIX)) return undefined;
  const [namespace, name, ...rest] = username.slice(SERVICE_ACCOUNT_PREFIX.length).split(':');
  if (namespace === undefined || namespace === '' || name === undefined || name === '' || rest.length > 0) return undefined;
  return { namespace, name };
}

/**
 * The production resolver: verifies the bearer token with the TokenReview API and trusts
 * the caller as much as the Agent running under its service account (`status.trust.score`).
 * An authenticated service account without an Agent gets trust 0; users that are not
 * service accounts are not authenticated here. The score is re-read on every call so that
 * a trust change applies at once; only the review is cached, by token hash.
 */
export function tokenReviewCallerResolver(options: TokenReviewResolverOptions): CallerResolver {
  const clock = options.clock ?? Date.now;
  const cacheMillis = options.cacheMillis ?? 30_000;
  const reviews = new Map<string, { serviceAccount: ServiceAccountRef | undefined; until: number }>();

  const review = async (token: string): Promise<ServiceAccountRef | undefined> => {
    const digest = createHash('sha256').update(token).digest('base64');
    const cached = reviews.get(digest);
    if (cached !== undefined && cached.until > clock()) return cached.serviceAccount;
    const answer = await options.client.request<TokenReview>('POST', '/apis/authentication.k8s.io/v1/tokenreviews', {
      body: {
        apiVersion: 'authentication.k8s.io/v1',
        kind: 'TokenReview',
        spec: { token, ...(options.audiences?.length ? { audiences: options.audiences } : {}) },
      },
    });
    const username = answer.status?.authenticated === true ? answer.status.user?.username : undefined;
    const serviceAccount = username === undefined ? undefined : parseServiceAccount(username);
    if (reviews.size > 10_000) reviews.clear();
    reviews.set(digest, { serviceAccount, until: clock() + cacheMillis });
    return serviceAccount;
  };

  return async (metadata) => {
    const token = bearerToken(metadata);
    if (token === undefined) return undefined;
    const serviceAccount = await review(token);
    if (serviceAccount === undefined) return undefined;
    const agent = await options.findAgent(serviceAccount);
    const score = agent?.status?.trust?.score;
    const trustScore = typeof score === 'number' && Number.isFinite(score) ? Math.min(100, Math.max(0, score)) : 0;
    return { id: `${SERVICE_ACCOUNT_PREFIX}${serviceAccount.namespace}:${serviceAccount.name}`, trustScore };
  };
}
