// A typed client of meshos.discovery.v1.AgentDiscovery: the generated grpc-js client with
// the bearer token attached to every call.
import * as grpc from '@grpc/grpc-js';
import { AgentDiscoveryClient } from './generated/meshos/discovery/v1/discovery.js';

export interface DiscoveryClientOptions {
  /** Service-account token sent as `authorization: Bearer <token>`. */
  readonly token?: string;
  /** TLS or mTLS credentials; insecure when absent (development servers on 127.0.0.1). */
  readonly credentials?: grpc.ChannelCredentials;
}

export function createDiscoveryClient(address: string, options: DiscoveryClientOptions = {}): AgentDiscoveryClient {
  const { token } = options;
  // An interceptor rather than call credentials: grpc-js sends call credentials over TLS only,
  // and a development server on 127.0.0.1 may be plaintext.
  const interceptors: grpc.Interceptor[] =
    token === undefined
      ? []
      : [
          (callOptions, next) =>
            new grpc.InterceptingCall(next(callOptions), {
              start(metadata, listener, start) {
                metadata.set('authorization', `Bearer ${token}`);
                start(metadata, listener);
              },
            }),
        ];
  return new AgentDiscoveryClient(address, options.credentials ?? grpc.credentials.createInsecure(), {
    'grpc.max_receive_message_length': 16 * 1024 * 1024,
    'grpc.keepalive_time_ms': 120_000,
    interceptors,
  });
}

/** Calls a unary method of the generated client as a promise. */
export function call<Request, Response>(
  method: (request: Request, metadata: grpc.Metadata, options: Partial<grpc.CallOptions>, callback: (error: grpc.ServiceError | null, response: Response) => void) => grpc.ClientUnaryCall,
  request: Request,
  options: { deadlineMs?: number } = {},
): Promise<Response> {
  return new Promise((resolve, reject) => {
    method(request, new grpc.Metadata(), options.deadlineMs === undefined ? {} : { deadline: Date.now() + options.deadlineMs }, (error, response) => {
      if (error) reject(error);
      else resolve(response);
    });
  });
}
