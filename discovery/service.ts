// Discovery as the operator runs it: a live catalogue fed by the operator's Agent informer,
// served over gRPC with Kubernetes authentication (or none, on loopback, for development).
import * as grpc from '@grpc/grpc-js';
import { readFileSync } from 'node:fs';
import type { Agent } from '../crds/types.js';
import type { Informer } from '../operator/informer/informer.js';
import type { KubeClient } from '../operator/kube/client.js';
import type { Logger } from '../operator/log.js';
import type { GrpcCallObserver } from '../operator/tracing.js';
import { Catalogue } from './index/catalogue.js';
import { LiveCatalogue } from './index/live.js';
import { SearchThread } from './index/search-thread.js';
import { kubernetesAuthenticator } from './server/auth.js';
import { startDiscoveryServer, type DiscoveryServer } from './server/server.js';
import type { RateLimitOptions } from './server/rate-limit.js';

export interface DiscoveryServiceOptions {
  readonly host: string;
  readonly port: number;
  /** `kubernetes`: TokenReview / client certificates + SubjectAccessReview; `none`: development, loopback only. */
  readonly auth: 'kubernetes' | 'none';
  /** PEM files; with `clientCaFile` clients must present a certificate signed by it (mTLS). */
  readonly tls?: { readonly certFile: string; readonly keyFile: string; readonly clientCaFile?: string };
  readonly rateLimit?: RateLimitOptions;
}

export interface RunningDiscovery {
  readonly server: DiscoveryServer;
  readonly live: LiveCatalogue;
  readonly searchThread: SearchThread;
}

export function serverCredentials(tls: DiscoveryServiceOptions['tls']): grpc.ServerCredentials {
  if (!tls) return grpc.ServerCredentials.createInsecure();
  const ca = tls.clientCaFile ? readFileSync(tls.clientCaFile) : null;
  return grpc.ServerCredentials.createSsl(ca, [{ cert_chain: readFileSync(tls.certFile), private_key: readFileSync(tls.keyFile) }], ca !== null);
}

export async function startDiscoveryService(
  options: DiscoveryServiceOptions,
  context: { client: KubeClient; agents: Informer<Agent>; logger: Logger; observeCall?: GrpcCallObserver },
): Promise<RunningDiscovery> {
  const started = performance.now();
  // This thread keeps the agents for Get, List and Watch; a search thread keeps the text
  // indexes and ranks, off the operator's event loop.
  const live = new LiveCatalogue(new Catalogue({ textIndex: false, packEntries: true }));
  live.follow(context.agents);
  const searchThread = await SearchThread.start(live, {}, context.logger);
  context.logger.info({ agents: live.catalogue.size, seconds: Math.round(performance.now() - started) / 1000, ann: searchThread.status.usesAnn }, 'Built the discovery index');
  const grpcServer = await startDiscoveryServer({
    live,
    host: options.host,
    port: options.port,
    credentials: serverCredentials(options.tls),
    logger: context.logger,
    ...(options.auth === 'kubernetes' ? { authenticator: kubernetesAuthenticator({ client: context.client }) } : {}),
    ...(options.rateLimit ? { rateLimit: options.rateLimit } : {}),
    ...(context.observeCall ? { observeCall: context.observeCall } : {}),
    rank: (query) => searchThread.rank(query),
  });
  const server: DiscoveryServer = {
    ...grpcServer,
    close: async () => {
      await grpcServer.close();
      await searchThread.close();
    },
  };
  return { server, live, searchThread };
}
