import * as grpc from '@grpc/grpc-js';
import { InMemorySpanExporter, SimpleSpanProcessor } from '@opentelemetry/sdk-trace-base';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { checkTracingOptions, startTracing, traceReconcile, traceService, type Tracing } from './tracing.js';

const exporter = new InMemorySpanExporter();
let tracing: Tracing | undefined;

// A JSON-over-gRPC service defined by hand, so the test needs no .proto file.
const json = { serialize: (v: unknown) => Buffer.from(JSON.stringify(v)), deserialize: (b: Buffer) => JSON.parse(b.toString()) as unknown };
const definition: grpc.ServiceDefinition = {
  echo: { path: '/test.Echo/Echo', originalName: 'Echo', requestStream: false, responseStream: false, requestSerialize: json.serialize, requestDeserialize: json.deserialize, responseSerialize: json.serialize, responseDeserialize: json.deserialize },
};

beforeAll(() => {
  tracing = startTracing({ spanProcessor: new SimpleSpanProcessor(exporter) });
});
afterAll(async () => {
  await tracing?.shutdown();
});

describe('tracing', () => {
  it('is off without an endpoint, and rejects bad settings naming the flag', () => {
    expect(startTracing({})).toBeUndefined();
    expect(checkTracingOptions({ endpoint: 'collector:4318' })).toContain('--otlp-endpoint');
    expect(checkTracingOptions({ sampleRatio: 2 })).toContain('--trace-sample-ratio');
    expect(checkTracingOptions({ endpoint: 'http://collector:4318/v1/traces', sampleRatio: 0.5 })).toBeUndefined();
  });

  it('records a span per reconcile, with an error status when it throws', async () => {
    exporter.reset();
    await traceReconcile('agent', 'ns/a', () => Promise.resolve(1));
    await expect(traceReconcile('agent', 'ns/b', () => Promise.reject(new Error('boom')))).rejects.toThrow('boom');
    const spans = exporter.getFinishedSpans();
    expect(spans.map((s) => [s.name, s.attributes['meshos.object'], s.status.code])).toEqual([
      ['reconcile agent', 'ns/a', 0],
      ['reconcile agent', 'ns/b', 2],
    ]);
  });

  it('records a server span and a metric observation per gRPC call with its status code', async () => {
    exporter.reset();
    const calls: { method: string; code: string }[] = [];
    const server = new grpc.Server();
    server.addService(
      definition,
      traceService('test.Echo', definition, (c) => calls.push({ method: c.method, code: c.code }), {
        echo: (call: grpc.ServerUnaryCall<{ fail?: boolean }, unknown>, callback: grpc.sendUnaryData<unknown>) =>
          call.request.fail ? callback({ code: grpc.status.INVALID_ARGUMENT, details: 'fail: must be false' }) : callback(null, call.request),
      }),
    );
    const port = await new Promise<number>((resolve, reject) => server.bindAsync('127.0.0.1:0', grpc.ServerCredentials.createInsecure(), (e, p) => (e ? reject(e) : resolve(p))));
    const Client = grpc.makeGenericClientConstructor(definition, 'Echo');
    const client = new Client(`127.0.0.1:${port}`, grpc.credentials.createInsecure()) as unknown as Record<string, (req: unknown, cb: (e: grpc.ServiceError | null, v: unknown) => void) => void>;
    const call = (request: unknown): Promise<unknown> => new Promise((resolve) => client['echo']?.(request, (error, value) => resolve(error ?? value)));
    await call({ hello: 1 });
    await call({ fail: true });
    server.forceShutdown();
    const spans = exporter.getFinishedSpans();
    expect(spans.map((s) => [s.name, s.attributes['rpc.grpc.status_code']])).toEqual([
      ['test.Echo/Echo', 0],
      ['test.Echo/Echo', 3],
    ]);
    expect(calls).toEqual([
      { method: 'Echo', code: 'OK' },
      { method: 'Echo', code: 'INVALID_ARGUMENT' },
    ]);
  });
});
