// A small HTTP service: GET /checkout does some traced work of its own and calls GET /inventory on the
// same service, so one request produces a trace of four spans across a client and a server hop.
import { createServer, get } from 'node:http';
import type { IncomingMessage, Server, ServerResponse } from 'node:http';

import { context, trace } from '@opentelemetry/api';
import { RPCType, getRPCMetadata } from '@opentelemetry/core';

const tracer = trace.getTracer('traced-service');

/** Names the server span `GET /route` (HttpInstrumentation reads the route when the response ends). */
function setRoute(route: string): void {
  const rpc = getRPCMetadata(context.active());
  if (rpc?.type === RPCType.HTTP) rpc.route = route;
}

function sendJson(res: ServerResponse, status: number, body: unknown): void {
  res.writeHead(status, { 'content-type': 'application/json' }).end(JSON.stringify(body));
}

function getJson(url: string): Promise<unknown> {
  return new Promise((resolve, reject) => {
    get(url, (res) => {
      let text = '';
      res.setEncoding('utf8');
      res.on('data', (chunk: string) => (text += chunk));
      res.on('end', () => {
        try {
          resolve(JSON.parse(text));
        } catch (err) {
          reject(err instanceof Error ? err : new Error(String(err)));
        }
      });
      res.on('error', reject);
    }).on('error', reject);
  });
}

async function checkout(port: number): Promise<unknown> {
  const total = tracer.startActiveSpan('price-cart', (span) => {
    try {
      span.setAttribute('cart.items', 3);
      return 42;
    } finally {
      span.end();
    }
  });
  // An outgoing call: HttpInstrumentation creates the client span and propagates the trace context.
  const stock = await getJson(`http://127.0.0.1:${port}/inventory`);
  return { total, stock };
}

async function handle(req: IncomingMessage, res: ServerResponse, port: number): Promise<void> {
  const path = new URL(req.url ?? '/', 'http://localhost').pathname;
  if (req.method === 'GET' && path === '/checkout') {
    setRoute('/checkout');
    sendJson(res, 200, await checkout(port));
  } else if (req.method === 'GET' && path === '/inventory') {
    setRoute('/inventory');
    sendJson(res, 200, { sku: 'okj-1', available: 7 });
  } else {
    sendJson(res, 404, { error: 'not found' });
  }
}

/** Listens on `port` (0: any free port) and resolves with the server once it is listening. */
export function startServer(port: number): Promise<Server> {
  const server = createServer((req, res) => {
    const address = server.address();
    const actualPort = typeof address === 'object' && address ? address.port : port;
    handle(req, res, actualPort).catch((err: unknown) => {
      if (!res.headersSent) sendJson(res, 500, { error: err instanceof Error ? err.message : String(err) });
      else res.destroy();
    });
  });
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, () => resolve(server));
  });
}
