// Passthrough properties can undo what the exporter promises (acks from all replicas, an idempotent
// producer, a message timeout inside the export timeout). Those librdkafka would refuse anyway are
// configuration errors now rather than at the first export; those that merely weaken delivery are logged.
import type { ResolvedExporterConfig } from '../config/exporter';
import type { ResolvedKafkaConfig } from '../config/kafka';
import type { RdKafkaValue } from '../config/types';
import { ConfigError } from '../errors/errors';
import type { Logger } from '../logging/logger';

/** librdkafka's limit on in-flight requests of an idempotent producer. */
const MAX_IDEMPOTENT_IN_FLIGHT = 5;

const field = (key: string): string => `kafka.rdkafka['${key}']`;

/** The first of `keys` (a property and its librdkafka aliases) set in the passthrough, with its value. */
function pick(rdkafka: Record<string, RdKafkaValue>, keys: readonly string[]): [string, RdKafkaValue] | undefined {
  for (const key of keys) {
    const value = rdkafka[key];
    if (value !== undefined) return [key, value];
  }
  return undefined;
}

function asBoolean(value: RdKafkaValue): boolean | undefined {
  const v = String(value).trim().toLowerCase();
  if (v === 'true') return true;
  if (v === 'false') return false;
  return undefined;
}

function asInteger(value: RdKafkaValue): number | undefined {
  if (typeof value === 'number') return Number.isInteger(value) ? value : undefined;
  if (typeof value === 'string' && /^-?\d+$/.test(value.trim())) return Number(value);
  return undefined;
}

/**
 * Checks the passthrough against the producer's guarantees: throws a {@link ConfigError} for a combination
 * librdkafka refuses with an idempotent producer, warns about overrides that weaken delivery.
 */
export function checkProducerOverrides(
  kafka: ResolvedKafkaConfig,
  exporter: ResolvedExporterConfig,
  logger: Logger,
): void {
  const r = kafka.rdkafka;
  const idempotence = pick(r, ['enable.idempotence']);
  const idempotent = idempotence === undefined || asBoolean(idempotence[1]) !== false;
  const acks = pick(r, ['acks', 'request.required.acks']);
  const acksAll = acks === undefined || ['all', '-1'].includes(String(acks[1]).trim().toLowerCase());

  if (idempotent) {
    if (acks && !acksAll) {
      throw new ConfigError(
        field(acks[0]),
        `must be 'all' (or -1) while enable.idempotence is true (librdkafka refuses to create the producer), ` +
          `got ${JSON.stringify(acks[1])}`,
      );
    }
    const inFlight = pick(r, ['max.in.flight.requests.per.connection', 'max.in.flight']);
    if (inFlight && (asInteger(inFlight[1]) ?? 0) > MAX_IDEMPOTENT_IN_FLIGHT) {
      throw new ConfigError(
        field(inFlight[0]),
        `must be at most ${MAX_IDEMPOTENT_IN_FLIGHT} while enable.idempotence is true, got ${JSON.stringify(inFlight[1])}`,
      );
    }
    const retries = pick(r, ['retries', 'message.send.max.retries']);
    if (retries && asInteger(retries[1]) === 0) {
      throw new ConfigError(field(retries[0]), 'must be at least 1 while enable.idempotence is true, got 0');
    }
  } else {
    logger.warn(
      `${field('enable.idempotence')} is false: librdkafka's own retries may now duplicate or reorder messages`,
      { property: 'enable.idempotence' },
    );
    if (acks && !acksAll) {
      logger.warn(
        `${field(acks[0])} is ${JSON.stringify(acks[1])}: Kafka may acknowledge a message that a broker failure ` +
          'then loses, so a successful export no longer guarantees the spans are in the topic',
        { property: acks[0] },
      );
    }
  }

  const timeout = pick(r, ['message.timeout.ms', 'delivery.timeout.ms']);
  const timeoutMillis = timeout && asInteger(timeout[1]);
  if (timeout && timeoutMillis !== undefined && (timeoutMillis === 0 || timeoutMillis > exporter.timeoutMillis)) {
    logger.warn(
      `${field(timeout[0])} (${timeoutMillis}) is ${timeoutMillis === 0 ? 'infinite' : 'longer than'} ` +
        `exporter.timeoutMillis (${exporter.timeoutMillis}): a message may still be delivered after its export ` +
        'reported FAILED, and arrive twice if its spans are exported again',
      { property: timeout[0] },
    );
  }
}
