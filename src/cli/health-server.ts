// The HTTP endpoints of `forward --health-port`: liveness (/healthz), readiness (/readyz) and Prometheus metrics
// (/metrics) on one port, for Kubernetes probes and a Prometheus scrape. JSON bodies, so `curl | jq` works.
import { createServer } from 'node:http';
import type { IncomingMessage, Server, ServerResponse } from 'node:http';

import type { ForwarderHealth } from '../forwarder/health';

/** How the start-up goes, while the forwarder is not running yet. */
export interface StartupProgress {
  /** Start attempts made so far (the one in flight included). */
  attempts: number;
  /** The message of the last failed attempt. */
  lastError: string | undefined;
}

/** What a readiness probe is told. */
export interface Readiness {
  ready: boolean;
  /** Why not ready. */
  cause?: string;
}

/**
 * Ready: the forwarder runs (joined its group) and no partition is paused because the sink fails. Pauses for a
 * full buffer are back-pressure, not a fault. Liveness does not depend on this: the forwarder rides out a sink
 * outage by itself, and restarting it would not help.
 */
export function readiness(health: ForwarderHealth, startup?: StartupProgress): Readiness {
  if (health.state === 'created' || health.state === 'starting') {
    const tried = startup && startup.attempts > 0 ? ` (attempt ${startup.attempts})` : '';
    const last = startup?.lastError === undefined ? '' : `; last failure: ${startup.lastError}`;
    return { ready: false, cause: `starting: joining consumer group ${health.groupId}${tried}${last}` };
  }
  if (health.state !== 'running') return { ready: false, cause: `forwarder is ${health.state}` };
  const failing = health.partitions.filter((p) => p.pauseReasons.includes('sink-failing'));
  if (failing.length === 0) return { ready: true };
  const last = failing
    .map((p) => p.lastError)
    .filter((e) => e !== undefined)
    .sort((a, b) => b.at.localeCompare(a.at))[0];
  const which = failing.map((p) => `${p.topic}:${p.partition}`).join(', ');
  const error = last ? `; last error ${last.code}: ${last.message}` : '';
  return { ready: false, cause: `sink ${health.sink} failing: partitions ${which} paused${error}` };
}

/** What the server reads on each request. */
export interface HealthSources {
  health: () => ForwarderHealth;
  startup: () => StartupProgress;
  /** Serves GET /metrics (the Prometheus exporter's handler). */
  metrics: (req: IncomingMessage, res: ServerResponse) => void;
}

/** A listening health server. */
export interface HealthServer {
  /** The port it listens on (the one picked when asked for 0). */
  port: number;
  /** Stops listening and closes open connections. */
  close: () => Promise<void>;
}

/** Listens on `port` (every interface); rejects naming the port when it cannot (in use, not allowed). */
export async function listenHealth(port: number, sources: HealthSources): Promise<HealthServer> {
  const server = createServer((req, res) => handle(req, res, sources));
  await new Promise<void>((resolve, reject) => {
    server.once('error', (err) => reject(new Error(`cannot serve --health-port ${port}: ${err.message}`)));
    server.listen(port, resolve);
  });
  const address = server.address();
  return {
    port: typeof address === 'object' && address !== null ? address.port : port,
    close: () => close(server),
  };
}

function close(server: Server): Promise<void> {
  const closed = new Promise<void>((resolve) => server.close(() => resolve()));
  server.closeAllConnections();
  return closed;
}

function handle(req: IncomingMessage, res: ServerResponse, sources: HealthSources): void {
  const path = new URL(req.url ?? '/', 'http://localhost').pathname;
  if (req.method !== 'GET' && req.method !== 'HEAD') {
    json(res, 405, { error: `method ${req.method ?? ''} not allowed: use GET` }, { allow: 'GET, HEAD' });
    return;
  }
  if (path === '/healthz') {
    const { state } = sources.health();
    // Alive while this process runs its forwarder: starting (and retrying), running or stopping.
    if (state === 'stopped') json(res, 503, { status: 'dead', cause: 'forwarder stopped', state });
    else json(res, 200, { status: 'alive', state });
  } else if (path === '/readyz') {
    const health = sources.health();
    const startup = sources.startup();
    const r = readiness(health, startup);
    json(res, r.ready ? 200 : 503, {
      status: r.ready ? 'ready' : 'not ready',
      ...(r.cause !== undefined && { cause: r.cause }),
      ...(health.state === 'starting' || health.state === 'created' ? { startup } : {}),
      health,
    });
  } else if (path === '/metrics') {
    sources.metrics(req, res);
  } else {
    json(res, 404, { error: `no such path: ${path}; try /healthz, /readyz or /metrics` });
  }
}

function json(res: ServerResponse, status: number, body: unknown, headers: Record<string, string> = {}): void {
  res.writeHead(status, { 'content-type': 'application/json', ...headers });
  res.end(JSON.stringify(body));
}
