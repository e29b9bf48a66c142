import { Metadata } from '@grpc/grpc-js';
import { describe, expect, it } from 'vitest';
import type { KubeClient } from '../../operator/kube/client.js';
import { bearerToken, parseServiceAccount, staticCallerResolver, tokenReviewCallerResolver } from './callers.js';

const withToken = (token?: string): Metadata => {
  const metadata = new Metadata();
  if (token !== undefined) metadata.set('authorization', `Bearer ${token}`);
  return metadata;
};

describe('callers', () => {
  it('reads bearer tokens and service-account usernames', () => {
    expect(bearerToken(withToken('abc'))).toBe('abc');
    expect(bearerToken(withToken())).toBeUndefined();
    expect(parseServiceAccount('system:serviceaccount:team-a:planner')).toEqual({ namespace: 'team-a', name: 'planner' });
    expect(parseServiceAccount('alice')).toBeUndefined();
    expect(parseServiceAccount('system:serviceaccount:team-a')).toBeUndefined();
  });

  it('resolves static tokens', async () => {
    const resolve = staticCallerResolver({ t1: { id: 'one', trustScore: 10 } });
    expect(await resolve(withToken('t1'))).toEqual({ id: 'one', trustScore: 10 });
    expect(await resolve(withToken('nope'))).toBeUndefined();
    expect(await resolve(withToken())).toBeUndefined();
  });

  it('maps a reviewed service account to its Agent trust, caching the review', async () => {
    const bodies: unknown[] = [];
    const client = {
      request: (_method: string, _path: string, options: { body: { spec: { token: string } } }) => {
        bodies.push(options.body);
        const token = options.body.spec.token;
        const status =
          token === 'good'
            ? { authenticated: true, user: { username: 'system:serviceaccount:team-a:planner' } }
            : token === 'orphan'
              ? { authenticated: true, user: { username: 'system:serviceaccount:team-a:nobody' } }
              : { authenticated: false };
        return Promise.resolve({ status });
      },
    } as unknown as KubeClient;
    let score = 82;
    const resolve = tokenReviewCallerResolver({
      client,
      findAgent: ({ name }) => (name === 'planner' ? { status: { trust: { score } } } : undefined),
    });
    expect(await resolve(withToken('good'))).toEqual({ id: 'system:serviceaccount:team-a:planner', trustScore: 82 });
    score = 40;
    expect(await resolve(withToken('good'))).toEqual({ id: 'system:serviceaccount:team-a:planner', trustScore: 40 });
    expect(bodies).toHaveLength(1);
    expect(await resolve(withToken('orphan'))).toEqual({ id: 'system:serviceaccount:team-a:nobody', trustScore: 0 });
    expect(await resolve(withToken('bad'))).toBeUndefined();
    expect(await resolve(withToken())).toBeUndefined();
  });
});
