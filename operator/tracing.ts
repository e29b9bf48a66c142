// Optional OpenTelemetry tracing of reconciles and gRPC calls. Off by default: without
// startTracing(), @opentelemetry/api hands out its no-op tracer, so the spans below cost a
// function call. With an OTLP endpoint, spans go to it over OTLP/HTTP in batches.
import { SpanKind, SpanStatusCode, context, propagation, trace, type Span, type Tracer } from '@opentelemetry/api';
import { OTLPTraceExporter } from '@opentelemetry/exporter-trace-otlp-http';
import { resourceFromAttributes } from '@opentelemetry/resources';
import { BatchSpanProcessor, ParentBasedSampler, TraceIdRatioBasedSampler, type SpanExporter, type SpanProcessor } from '@opentelemetry/sdk-trace-base';
import { NodeTracerProvider } from '@opentelemetry/sdk-trace-node';
import type * as grpc from '@grpc/grpc-js';
import { getErrorMessage } from './kube/errors.js';

export const TRACER_NAME = 'meshos';

export interface TracingOptions {
  /** OTLP/HTTP traces URL, such as http://collector:4318/v1/traces. */
  endpoint?: string;
  /** Fraction of new traces sampled, 0..1 (default 1). */
  sampleRatio?: number;
  serviceName?: string;
  serviceInstance?: string;
  /** For tests: export here instead of OTLP. */
  exporter?: SpanExporter;
  /** For tests: a simple processor instead of batching. */
  spanProcessor?: SpanProcessor;
}

export interface Tracing {
  shutdown(): Promise<void>;
}

/** Validates the tracing flags; returns an error message naming the flag, or undefined. */
export function checkTracingOptions(options: TracingOptions): string | undefined {
  if (options.endpoint !== undefined && !/^https?:\/\/[^\s]+$/.test(options.endpoint)) return `--otlp-endpoint must be an http(s) URL, got "${options.endpoint}"`;
  if (options.sampleRatio !== undefined && !(options.sampleRatio >= 0 && options.sampleRatio <= 1)) return `--trace-sample-ratio must be within 0..1, got ${options.sampleRatio}`;
  return undefined;
}

/** Registers a global tracer provider exporting to the endpoint; returns undefined (tracing off) without one. */
export function startTracing(options: TracingOptions): Tracing | undefined {
  if (options.endpoint === undefined && options.exporter === undefined && options.spanProcessor === undefined) return undefined;
  const problem = checkTracingOptions(options);
  if (problem) throw new Error(problem);
  const exporter = options.exporter ?? new OTLPTraceExporter(options.endpoint !== undefined ? { url: options.endpoint } : {});
  const provider = new NodeTracerProvider({
    resource: resourceFromAttributes({
      'service.name': options.serviceName ?? 'meshos-operator',
      ...(options.serviceInstance ? { 'service.instance.id': options.serviceInstance } : {}),
    }),
    sampler: new ParentBasedSampler({ root: new TraceIdRatioBasedSampler(options.sampleRatio ?? 1) }),
    spanProcessors: [options.spanProcessor ?? new BatchSpanProcessor(exporter)],
  });
  provider.register();
  return {
    shutdown: async () => {
      await provider.shutdown();
      trace.disable();
      propagation.disable();
      context.disable();
    },
  };
}

export function tracer(): Tracer {
  return trace.getTracer(TRACER_NAME);
}

function endWith(span: Span, error: unknown): void {
  if (error !== undefined) {
    const message = getErrorMessage(error);
    span.recordException(error instanceof Error ? error : new Error(message));
    span.setStatus({ code: SpanStatusCode.ERROR, message });
  }
  span.end();
}

/** Runs one reconcile inside a span named `reconcile <controller>`, with the object's key. */
export async function traceReconcile<T>(controller: string, key: string, body: () => Promise<T>): Promise<T> {
  return tracer().startActiveSpan(`reconcile ${controller}`, { kind: SpanKind.INTERNAL, attributes: { 'meshos.controller': controller, 'meshos.object': key } }, async (span) => {
    try {
      const result = await body();
      endWith(span, undefined);
      return result;
    } catch (error) {
      endWith(span, error);
      throw error;
    }
  });
}

/** The gRPC status code of a callback's error, 0 (OK) without one. */
function grpcCode(error: unknown): number {
  return typeof error === 'object' && error !== null && typeof (error as { code?: unknown }).code === 'number' ? (error as { code: number }).code : error ? 2 : 0;
}

/** Told about each finished gRPC call: the operator's metrics (meshos_grpc_server_*) use it. */
export type GrpcCallObserver = (call: { service: string; method: string; code: string; seconds: number }) => void;

// grpc.status names by number, without importing grpc-js at run time here.
const GRPC_CODES = ['OK', 'CANCELLED', 'UNKNOWN', 'INVALID_ARGUMENT', 'DEADLINE_EXCEEDED', 'NOT_FOUND', 'ALREADY_EXISTS', 'PERMISSION_DENIED', 'RESOURCE_EXHAUSTED', 'FAILED_PRECONDITION', 'ABORTED', 'OUT_OF_RANGE', 'UNIMPLEMENTED', 'INTERNAL', 'UNAVAILABLE', 'DATA_LOSS', 'UNAUTHENTICATED'];

/**
 * Wraps every unary and server-streaming handler of a gRPC service implementation in a server
 * span (`rpc.system=grpc`, `rpc.service`, `rpc.method`, `rpc.grpc.status_code`) and reports each
 * call to `observe` (metrics). Use it where the service is added:
 * `server.addService(def, traceService('pkg.Service', def, metrics.observeGrpcCall, impl))`.
 */
export function traceService<T extends grpc.UntypedServiceImplementation>(serviceName: string, definition: grpc.ServiceDefinition, observe: GrpcCallObserver | undefined, implementation: T): T {
  const wrapped: grpc.UntypedServiceImplementation = {};
  const report = (method: string, code: number, started: number): void =>
    observe?.({ service: serviceName, method, code: GRPC_CODES[code] ?? String(code), seconds: (performance.now() - started) / 1000 });
  for (const [method, handler] of Object.entries(implementation)) {
    const spec = definition[method];
    const attributes = { 'rpc.system': 'grpc', 'rpc.service': serviceName, 'rpc.method': spec?.originalName ?? method };
    const name = `${serviceName}/${spec?.originalName ?? method}`;
    if (spec && !spec.requestStream && !spec.responseStream) {
      const unary = handler as grpc.handleUnaryCall<unknown, unknown>;
      wrapped[method] = ((call: grpc.ServerUnaryCall<unknown, unknown>, callback: grpc.sendUnaryData<unknown>) => {
        const span = tracer().startSpan(name, { kind: SpanKind.SERVER, attributes });
        const started = performance.now();
        context.with(trace.setSpan(context.active(), span), () =>
          unary(call, (error, value, trailer, flags) => {
            const code = grpcCode(error);
            report(attributes['rpc.method'], code, started);
            span.setAttribute('rpc.grpc.status_code', code);
            if (code !== 0) span.setStatus({ code: SpanStatusCode.ERROR, message: (error)?.details ?? '' });
            span.end();
            callback(error, value, trailer, flags);
          }),
        );
      }) as grpc.handleUnaryCall<unknown, unknown>;
    } else if (spec && spec.responseStream && !spec.requestStream) {
      const streaming = handler as grpc.handleServerStreamingCall<unknown, unknown>;
      wrapped[method] = ((call: grpc.ServerWritableStream<unknown, unknown>) => {
        const span = tracer().startSpan(name, { kind: SpanKind.SERVER, attributes });
        const started = performance.now();
        let ended = false;
        const end = (error?: unknown): void => {
          if (ended) return;
          ended = true;
          report(attributes['rpc.method'], grpcCode(error), started);
          span.setAttribute('rpc.grpc.status_code', grpcCode(error));
          endWith(span, error);
        };
        call.once('finish', () => end());
        call.once('error', (error: unknown) => end(error));
        call.once('cancelled', () => end(new Error('cancelled')));
        context.with(trace.setSpan(context.active(), span), () => streaming(call));
      }) as grpc.handleServerStreamingCall<unknown, unknown>;
    } else {
      wrapped[method] = handler;
    }
  }
  return wrapped as T;
}
