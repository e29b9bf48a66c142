import { KubeConfig } from '@kubernetes/client-node';
import type * as https from 'node:https';

/** What the REST client needs to reach one API server: its URL, TLS material and auth headers. */
export interface ClusterConnection {
  server: string;
  ca?: string | Buffer;
  cert?: string | Buffer;
  key?: string | Buffer;
  rejectUnauthorized: boolean;
  headers: Record<string, string>;
  /** Re-reads credentials that expire (exec plugins, token files). */
  refreshHeaders?: () => Promise<Record<string, string>>;
}

/**
 * Loads a kubeconfig (the given file, else `KUBECONFIG`, else ~/.kube/config, else in-cluster)
 * with @kubernetes/client-node, which knows every auth flavour, and keeps only what our
 * transport needs.
 */
export async function loadClusterConnection(kubeconfigPath?: string, context?: string): Promise<ClusterConnection> {
  const kc = new KubeConfig();
  if (kubeconfigPath) kc.loadFromFile(kubeconfigPath);
  else kc.loadFromDefault();
  // A named context (kubectl's --context) replaces the kubeconfig's current-context.
  if (context !== undefined && context !== '') {
    if (!kc.getContextObject(context)) throw new Error(`kubeconfig ${kubeconfigPath ?? '(default)'} has no context "${context}" (contexts: ${kc.getContexts().map((c) => c.name).join(', ') || 'none'})`);
    kc.setCurrentContext(context);
  }
  const cluster = kc.getCurrentCluster();
  if (!cluster) throw new Error(`kubeconfig ${kubeconfigPath ?? '(default)'} has no current cluster`);

  const headersFromConfig = async (): Promise<Record<string, string>> => {
    const options: https.RequestOptions = {};
    await kc.applyToHTTPSOptions(options);
    const headers: Record<string, string> = {};
    for (const [name, value] of Object.entries(options.headers ?? {})) {
      if (typeof value === 'string') headers[name] = value;
      else if (Array.isArray(value)) headers[name] = value.join(', ');
      else if (typeof value === 'number') headers[name] = String(value);
    }
    return headers;
  };

  const options: https.RequestOptions = {};
  await kc.applyToHTTPSOptions(options);
  const connection: ClusterConnection = {
    server: cluster.server.replace(/\/+$/, ''),
    rejectUnauthorized: !cluster.skipTLSVerify,
    headers: await headersFromConfig(),
    refreshHeaders: headersFromConfig,
  };
  if (options.ca !== undefined) connection.ca = options.ca as string | Buffer;
  if (options.cert !== undefined) connection.cert = options.cert as string | Buffer;
  if (options.key !== undefined) connection.key = options.key as string | Buffer;
  return connection;
}
