import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Registry } from 'prom-client';

export interface HealthChecks {
  /** Process is alive and its watches are not stuck; failing it asks for a restart. */
  live(): { ok: boolean; detail: string };
  /** Caches are synced; failing it takes the replica out of Service endpoints. */
  ready(): { ok: boolean; detail: string };
}

/** Read-only JSON endpoints served beside the health checks, such as /decisions. */
export type JsonRoutes = Record<string, (query: URLSearchParams) => unknown>;

/** Serves /healthz, /readyz, /metrics and the given JSON routes on one port. */
export async function startHealthServer(host: string, port: number, checks: HealthChecks, registry: Registry, routes: JsonRoutes = {}): Promise<{ server: Server; port: number }> {
  const server = createServer((request, response) => {
    const url = new URL(request.url ?? '/', 'http://localhost');
    const path = url.pathname;
    const route = routes[path];
    if (route && request.method === 'GET') {
      try {
        const body = JSON.stringify(route(url.searchParams));
        response.writeHead(200, { 'content-type': 'application/json' });
        response.end(body);
      } catch (error) {
        response.writeHead(400, { 'content-type': 'text/plain' });
        response.end(`${error instanceof Error ? error.message : String(error)}\n`);
      }
      return;
    }
    const answer = (check: { ok: boolean; detail: string }): void => {
      response.writeHead(check.ok ? 200 : 503, { 'content-type': 'text/plain' });
      response.end(check.ok ? `ok\n${check.detail}\n` : `not ok\n${check.detail}\n`);
    };
    if (path === '/healthz' || path === '/livez') return answer(checks.live());
    if (path === '/readyz') return answer(checks.ready());
    if (path === '/metrics') {
      registry
        .metrics()
        .then((text) => {
          response.writeHead(200, { 'content-type': registry.contentType });
          response.end(text);
        })
        .catch((error: unknown) => {
          response.writeHead(500);
          response.end(String(error));
        });
      return;
    }
    response.writeHead(404, { 'content-type': 'text/plain' });
    response.end('not found\n');
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, host, () => resolve());
  });
  return { server, port: (server.address() as AddressInfo).port };
}
