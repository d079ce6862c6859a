// What the forwarder runs with: its resolved settings, with the sink they describe created and the retry
// policy built. Resolution (config/) creates nothing; this is where the forwarder's parts are made.
import { resolveForwarderSettings } from '../config/forwarder';
import type { ResolvedForwarderSettings } from '../config/forwarder';
import { resolveRetryPolicy } from '../config/retry';
import { diagLogger } from '../logging/logger';
import type { Logger } from '../logging/logger';
import type { RetryPolicy } from '../retry/retry-policy';
import { createSink } from '../sinks/create-sink';
import type { Sink } from '../sinks/sink';

/** The forwarder's settings with its sink created and its retry policy built (internal). */
export interface ResolvedForwarderConfig extends Omit<ResolvedForwarderSettings, 'sink'> {
  sink: Sink;
  retry: RetryPolicy;
}

/**
 * The `forwarder` section (plus the shared `retry` policy) with its sink created; `topic` is the resolved
 * `kafka.topic`.
 */
export function createForwarderConfig(
  config: unknown,
  topic: string,
  env: NodeJS.ProcessEnv = process.env,
  logger: Logger = diagLogger,
): ResolvedForwarderConfig {
  const settings = resolveForwarderSettings(config, topic, env, logger);
  const retry = resolveRetryPolicy(config);
  return { ...settings, sink: createSink(settings.sink), retry };
}
