// Polling components until they answer.
import { request as httpRequest } from 'node:http';
import { request as httpsRequest, type RequestOptions } from 'node:https';

export interface HttpAnswer {
  status: number;
  body: string;
}

/** One GET with a short timeout; network errors become rejections. */
export function get(url: string, tls: Pick<RequestOptions, 'ca' | 'cert' | 'key' | 'rejectUnauthorized'> = {}, timeoutMs = 3000): Promise<HttpAnswer> {
  return new Promise((resolve, reject) => {
    const target = new URL(url);
    const send = target.protocol === 'https:' ? httpsRequest : httpRequest;
    const req = send(target, { method: 'GET', timeout: timeoutMs, agent: false, ...(target.protocol === 'https:' ? tls : {}) }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (chunk: Buffer) => chunks.push(chunk));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body: Buffer.concat(chunks).toString('utf8') }));
      res.on('error', reject);
    });
    req.on('timeout', () => req.destroy(new Error(`GET ${url} timed out after ${timeoutMs} ms`)));
    req.on('error', reject);
    req.end();
  });
}

export interface WaitOptions {
  timeoutMs: number;
  intervalMs?: number;
  /** Stop early (and fail) when this returns a reason, e.g. the process died. */
  abort?: () => string | undefined;
}

/** Polls until `probe` resolves true; throws with the last failure after the timeout. */
export async function waitUntil(what: string, probe: () => Promise<boolean>, options: WaitOptions): Promise<void> {
  const deadline = Date.now() + options.timeoutMs;
  let lastProblem = 'no answer yet';
  for (;;) {
    const aborted = options.abort?.();
    if (aborted !== undefined) throw new Error(`${what}: ${aborted}`);
    try {
      if (await probe()) return;
      lastProblem = 'not ready yet';
    } catch (error) {
      lastProblem = error instanceof Error ? error.message : String(error);
    }
    if (Date.now() >= deadline) throw new Error(`${what}: not ready after ${Math.round(options.timeoutMs / 1000)} s (last: ${lastProblem})`);
    await new Promise((resolve) => setTimeout(resolve, options.intervalMs ?? 250));
  }
}
