// `forward`: the standalone forwarder process, run as a service. It keeps trying to start while Kafka is
// unreachable, stops cleanly on SIGTERM/SIGINT at any moment (drain, commit what Jaeger accepted, leave the
// group) so a rolling restart neither loses nor re-sends more than it must, and with --health-port serves probes
// and Prometheus metrics.
import { setTimeout as delay } from 'node:timers/promises';

import { EnvReader, ENV } from '../config/env';
import { resolveConfig } from '../config/resolve-config';
import { ShutdownError } from '../errors/errors';
import { KafkaToJaegerForwarder } from '../forwarder/kafka-to-jaeger-forwarder';
import type { Logger } from '../logging/logger';
import { FORWARDER_OPTIONS, FORWARDER_OPTIONS_HELP, buildConfig, integerFlag, parseCommand } from './args';
import type { Flags } from './args';
import { listenHealth } from './health-server';
import type { HealthServer, StartupProgress } from './health-server';
import { jsonLogger, silentLogger } from './output';
import { prometheusMetrics } from './prometheus-metrics';
import { START_BACKOFF, startWithRetry } from './start-retry';

/** Help of `forward`. */
export const FORWARD_HELP = `Usage: otel-kafka-jaeger forward [options]

Runs the Kafka-to-Jaeger forwarder until SIGTERM or SIGINT, then drains, commits and exits 0 (also when the
signal comes while it is still starting). Logs are JSON lines on stdout: {"time","level","msg",...}; failed
start attempts are logged the same way on stderr. Config: --config file, then flags, then the environment
variables, then the defaults.

While Kafka cannot be reached at start, it tries again, waiting ${START_BACKOFF.initialDelayMillis / 1000} s doubling to ${START_BACKOFF.maxDelayMillis / 1000} s between
attempts; an error that retrying cannot fix (e.g. failed authentication) exits 1 naming it.

Options:
${FORWARDER_OPTIONS_HELP}
  --health-port <port>  serve GET /healthz (liveness), /readyz (readiness: 200 once running with the sink
                        accepting, else 503 naming the cause) and /metrics (Prometheus) on this port of every
                        interface; 0 picks a free port (env ${ENV.forwarderHealthPort})
  --no-retry-start      exit 1 at the first failed start instead of trying again
  --debug               also log debug lines
  -h, --help            this help`;

const FORWARD_OPTIONS = {
  ...FORWARDER_OPTIONS,
  'health-port': { type: 'string' },
  'no-retry-start': { type: 'boolean' },
  debug: { type: 'boolean' },
} as const;

/** Runs `forward`; resolves with the exit code once the forwarder has stopped. */
export async function forwardCommand(argv: string[]): Promise<number> {
  const { flags } = parseCommand(argv, FORWARD_OPTIONS);
  if (flags.help) {
    process.stdout.write(`${FORWARD_HELP}\n`);
    return 0;
  }
  const level = flags.debug ? 'debug' : 'info';
  const logger = jsonLogger(process.stdout, level);
  const startLog = jsonLogger(process.stderr, level);
  const healthPort = healthPortOf(flags, logger);
  const config = buildConfig(flags, logger);

  // Only with --health-port: the library and the other commands never load the metrics SDK.
  const metrics = healthPort === undefined ? undefined : await prometheusMetrics();
  const forwarder = new KafkaToJaegerForwarder(metrics ? { ...config, meterProvider: metrics.meterProvider } : config);
  const { stopTimeoutMillis } = resolveConfig({ ...config, logger: silentLogger }).forwarder;

  const progress: StartupProgress = { attempts: 0, lastError: undefined };
  let server: HealthServer | undefined;
  if (healthPort !== undefined && metrics) {
    server = await listenHealth(healthPort, {
      health: () => forwarder.health(),
      startup: () => progress,
      metrics: metrics.handle,
    });
    logger.info('serving health and metrics', { port: server.port, paths: ['/healthz', '/readyz', '/metrics'] });
  }
  const release = async (): Promise<void> => {
    await server?.close();
    await metrics?.shutdown().catch(() => undefined);
  };

  const stopping = new AbortController();
  let signalled: (signal: NodeJS.Signals) => void = () => undefined;
  const stopRequested = new Promise<NodeJS.Signals>((resolve) => (signalled = resolve));
  let signals = 0;
  const onSignal = (signal: NodeJS.Signals): void => {
    // A second signal means the operator will not wait for the drain.
    if (++signals > 1) {
      logger.warn('second signal: exiting without waiting for the drain', { signal });
      process.exit(1);
    }
    signalled(signal);
    stopping.abort(new ShutdownError(`${signal} received`));
  };
  process.on('SIGTERM', onSignal);
  process.on('SIGINT', onSignal);

  const started = startWithRetry(() => forwarder.start(), {
    retry: !flags['no-retry-start'],
    signal: stopping.signal,
    onAttempt: (attempt) => (progress.attempts = attempt),
    onRetry: ({ attempt, delayMillis, error }) => {
      const message = error instanceof Error ? error.message : String(error);
      progress.lastError = message;
      startLog.warn(`start failed: ${message}`, {
        attempt,
        retryInMillis: Math.round(delayMillis),
        ...(isCoded(error) && { code: error.code }),
      });
    },
  });

  let outcome: 'started' | NodeJS.Signals;
  try {
    outcome = await Promise.race([started.then(() => 'started' as const), stopRequested]);
  } catch (err) {
    await forwarder.stop().catch(() => undefined);
    await release();
    throw err;
  }

  if (outcome !== 'started') {
    // Stopped while starting: stop() waits for a connect in flight. Nothing was fetched yet, so the wait is cut at
    // the stop timeout; the process itself still ends only once that connect gives up (Node joins the libuv worker
    // thread the client's connect holds), which the Kafka connect timeout bounds.
    started.catch(() => undefined);
    logger.info('stopping', { signal: outcome, while: 'starting' });
    const bounded = new AbortController();
    const done = await Promise.race([
      forwarder.stop().then(() => true),
      delay(stopTimeoutMillis, false, { signal: bounded.signal }),
    ]);
    bounded.abort();
    if (!done) logger.warn('stop timeout reached with a Kafka connect pending; the process ends once it gives up');
    await release();
    logger.info('stopped', { signal: outcome });
    return 0;
  }

  logger.info('forwarding', {
    pid: process.pid,
    topic: forwarder.topic,
    group: forwarder.health().groupId,
    sink: forwarder.health().sink,
    deadLetterTopic: forwarder.deadLetterTopic,
  });
  const signal = await stopRequested;
  logger.info('stopping', { signal });
  await forwarder.stop();
  await release();
  logger.info('stopped', { signal });
  return 0;
}

/** `--health-port`, else the environment's (a bad environment value is logged and ignored). */
export function healthPortOf(flags: Flags, logger: Logger, env: NodeJS.ProcessEnv = process.env): number | undefined {
  const flag = integerFlag(flags, 'health-port', 0, 65_535);
  if (flag !== undefined) return flag;
  return new EnvReader(env, logger).read(ENV.forwarderHealthPort, (raw) => {
    const n = /^\d+$/.test(raw) ? Number(raw) : NaN;
    return n >= 0 && n <= 65_535 ? { value: n } : { error: 'expected a port number from 0 to 65535' };
  });
}

function isCoded(error: unknown): error is { code: string } {
  return typeof (error as { code?: unknown } | null)?.code === 'string';
}
