// What every component shares: the logger, the meter and the serializer; unknown fields are reported here.
import type { Meter, MeterProvider } from '@opentelemetry/api';

import { ConfigError } from '../errors/errors';
import { configLogger, diagLogger } from '../logging/logger';
import type { Logger } from '../logging/logger';
import { globalMeter } from '../metrics/global-meter';
import { otlpJsonSerializer, otlpProtoSerializer } from '../serializers/otlp-serializers';
import type { SpanSerializer } from '../serializers/span-serializer';
import { ENV, EnvReader, oneOf } from './env';
import type { SerializerName } from './types';
import { unknownConfigFields } from './unknown-keys';
import { checkRoot, describe, isObject } from './validators';

/** The logger, meter and serializer every component shares. */
export interface ResolvedCommon {
  logger: Logger;
  meter: Meter;
  serializer: SpanSerializer;
  serializerName: string;
}

/**
 * The logger, meter and serializer shared by every component; `env` gives `OTEL_EXPORTER_KAFKA_SERIALIZER`.
 */
export function resolveCommon(config: unknown, env: NodeJS.ProcessEnv = process.env): ResolvedCommon {
  const c = checkRoot(config);
  const logger = resolveLogger(c.logger);
  const unknown = unknownConfigFields(c);
  if (unknown.length > 0) {
    configLogger(logger).warn('configuration fields not known to otel-kafka-jaeger are ignored; check their spelling', {
      fields: unknown.join(', '),
    });
  }
  checkMeterProvider(c.meterProvider);
  // Without one, the global provider's, bound late: applications often register it after creating us.
  const meter = c.meterProvider ? c.meterProvider.getMeter('otel-kafka-jaeger') : globalMeter('otel-kafka-jaeger');
  const name = resolveSerializer(c.serializer, new EnvReader(env, configLogger(logger)));
  if (name === 'otlp_proto') return { logger, meter, serializer: otlpProtoSerializer(), serializerName: name };
  if (name === 'otlp_json') return { logger, meter, serializer: otlpJsonSerializer(), serializerName: name };
  return { logger, meter, serializer: c.serializer as SpanSerializer, serializerName: 'custom' };
}

const SERIALIZERS: readonly SerializerName[] = ['otlp_proto', 'otlp_json'];

/** The built-in serializer's name (code ?? environment ?? `otlp_proto`), or undefined for a serializer object. */
export function resolveSerializer(serializer: unknown, e: EnvReader): SerializerName | undefined {
  if (serializer === undefined) return e.read(ENV.serializer, oneOf(SERIALIZERS)) ?? 'otlp_proto';
  if (serializer === 'otlp_proto') return 'otlp_proto';
  if (serializer === 'otlp_json') return 'otlp_json';
  if (
    isObject(serializer) &&
    typeof serializer.serialize === 'function' &&
    typeof serializer.contentType === 'string' &&
    serializer.contentType !== ''
  ) {
    return undefined;
  }
  throw new ConfigError(
    'serializer',
    `expected 'otlp_proto', 'otlp_json' or an object with contentType and serialize(spans), got ${describe(serializer)}`,
  );
}

export function resolveLogger(logger: unknown): Logger {
  if (logger === undefined) return diagLogger;
  const ok =
    isObject(logger) && (['debug', 'info', 'warn', 'error'] as const).every((m) => typeof logger[m] === 'function');
  if (!ok) throw new ConfigError('logger', 'expected an object with debug, info, warn and error functions');
  return logger as unknown as Logger;
}

export function checkMeterProvider(provider: unknown): asserts provider is MeterProvider | undefined {
  if (provider === undefined) return;
  if (!isObject(provider) || typeof provider.getMeter !== 'function') {
    throw new ConfigError('meterProvider', 'expected an OpenTelemetry MeterProvider (an object with getMeter)');
  }
}
