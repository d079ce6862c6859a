// In-process receivers on 127.0.0.1 for the fuzz test, each standing in for Jaeger: OTLP/HTTP (protobuf and
// JSON), Jaeger Thrift/HTTP and OTLP/gRPC. The OTLP ones read each body with the reference decoder, answer
// what Jaeger answers (400 / INVALID_ARGUMENT when it cannot read it, success otherwise) and note the spans
// they accepted. They never answer a retriable status: a record that ends as "retries exhausted" against
// them was retried for a fault of its own.
import { once } from 'node:events';
import { createServer } from 'node:http';
import type { IncomingMessage, Server, ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';

import { Server as GrpcServer, ServerCredentials, status as GrpcStatus } from '@grpc/grpc-js';
import type { sendUnaryData, ServerUnaryCall, ServiceDefinition } from '@grpc/grpc-js';
import protobuf from 'protobufjs';

import { decodeSpans } from './reference-decoder';
import type { SpanKey } from './reference-decoder';

/** What the receivers saw while one delivery ran. */
export class Tally {
  /** Spans of every request answered with success, in order. */
  readonly accepted: SpanKey[] = [];
  requests = 0;
  refused = 0;
  /** Answers that tell the client to retry; the stubs never give one, so this stays 0. */
  retriableAnswers = 0;
  thriftBodies = 0;
}

/** Where each stub listens, and the tally the next requests are counted in. */
export interface StubReceivers {
  readonly otlpHttpUrl: string;
  readonly thriftUrl: string;
  readonly grpcUrl: string;
  tally: Tally;
  close(): Promise<void>;
}

/** Like Jaeger's JSON reader, an error quotes a few raw bytes of the body around where it stopped. */
function refusalMessage(err: unknown, body: Buffer): string {
  const reason = err instanceof Error ? err.message : String(err);
  return `cannot unmarshal request: ${reason}, context ...|${body.subarray(0, 40).toString('latin1')}|...`;
}

/** A `google.rpc.Status` with code 3 (INVALID_ARGUMENT) and `message`, as an OTLP receiver answers a 400. */
function statusProto(message: string): Buffer {
  return Buffer.from(protobuf.Writer.create().uint32(8).uint32(3).uint32(18).string(message).finish());
}

function readBody(req: IncomingMessage): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => resolve(Buffer.concat(chunks)));
    req.on('error', reject);
  });
}

function decodeOrRefuse(tally: Tally, body: Buffer, contentType: string): { spans: SpanKey[] } | { refusal: string } {
  tally.requests++;
  try {
    const spans = decodeSpans(body, contentType);
    for (const s of spans) tally.accepted.push(s);
    return { spans };
  } catch (err) {
    // Anything the reference throws (a RangeError from nesting included) is a body it cannot read.
    tally.refused++;
    return { refusal: refusalMessage(err, body) };
  }
}

export async function startStubReceivers(): Promise<StubReceivers> {
  const stubs = { tally: new Tally() };

  const onHttp = (req: IncomingMessage, res: ServerResponse): void => {
    readBody(req).then(
      (body) => {
        if (req.url === '/api/traces') {
          stubs.tally.requests++;
          stubs.tally.thriftBodies++;
          res.writeHead(202).end();
          return;
        }
        const contentType = (req.headers['content-type'] ?? '').split(';')[0]!.trim();
        const outcome = decodeOrRefuse(stubs.tally, body, contentType);
        const json = contentType === 'application/json';
        if ('refusal' in outcome) {
          res
            .writeHead(400, { 'content-type': json ? 'application/json' : 'application/x-protobuf' })
            .end(json ? JSON.stringify({ code: 3, message: outcome.refusal }) : statusProto(outcome.refusal));
          return;
        }
        res
          .writeHead(200, { 'content-type': json ? 'application/json' : 'application/x-protobuf' })
          .end(json ? '{}' : '');
      },
      () => {
        stubs.tally.retriableAnswers++;
        res.writeHead(500).end();
      },
    );
  };
  const http: Server = createServer({ keepAliveTimeout: 60_000 }, onHttp);
  http.listen(0, '127.0.0.1');
  await once(http, 'listening');
  const httpPort = (http.address() as AddressInfo).port;

  const grpc = new GrpcServer({ 'grpc.max_receive_message_length': 64 * 1024 * 1024 });
  const identity = (b: Buffer): Buffer => b;
  const service: ServiceDefinition = {
    Export: {
      path: '/opentelemetry.proto.collector.trace.v1.TraceService/Export',
      requestStream: false,
      responseStream: false,
      requestSerialize: identity,
      requestDeserialize: identity,
      responseSerialize: identity,
      responseDeserialize: identity,
    },
  };
  grpc.addService(service, {
    Export: (call: ServerUnaryCall<Buffer, Buffer>, callback: sendUnaryData<Buffer>) => {
      const outcome = decodeOrRefuse(stubs.tally, call.request, 'application/x-protobuf');
      if ('refusal' in outcome) callback({ code: GrpcStatus.INVALID_ARGUMENT, details: outcome.refusal });
      else callback(null, Buffer.alloc(0));
    },
  });
  const grpcPort = await new Promise<number>((resolve, reject) =>
    grpc.bindAsync('127.0.0.1:0', ServerCredentials.createInsecure(), (err, port) =>
      err ? reject(err) : resolve(port),
    ),
  );

  return Object.assign(stubs, {
    otlpHttpUrl: `http://127.0.0.1:${httpPort}/v1/traces`,
    thriftUrl: `http://127.0.0.1:${httpPort}/api/traces`,
    grpcUrl: `http://127.0.0.1:${grpcPort}`,
    async close(): Promise<void> {
      http.closeAllConnections();
      await new Promise<void>((resolve) => http.close(() => resolve()));
      await new Promise<void>((resolve) => grpc.tryShutdown(() => resolve()));
    },
  });
}
