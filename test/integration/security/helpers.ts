// The stack's SASL_SSL listener (SCRAM-SHA-512 over TLS, scripts/stack/make-certs.sh) as the tests reach it,
// and a logger that keeps every line, so a test can search everything the library said for a secret.
import type { KafkaOptions, OtelKafkaJaegerConfig } from '../../../src/config/types';
import type { Logger } from '../../../src/logging/logger';
import { stackSecurity } from '../../../scripts/stack/stack';
import type { StackSecurity } from '../../../scripts/stack/stack';
import { sharedKafka } from '../harness/stack';

/** The TLS files and SCRAM user of the stack (made by globalSetup's stack:up). */
export function security(): StackSecurity {
  return stackSecurity();
}

/** The shared broker's SASL_SSL listener. */
export function saslBrokers(): string[] {
  return [sharedKafka().saslSslBootstrap];
}

/** `kafka` config for the SASL_SSL listener: SCRAM-SHA-512, the stack CA; `overrides` last. */
export function secureKafka(topic: string, overrides: Partial<KafkaOptions> = {}): KafkaOptions {
  const s = security();
  return {
    brokers: saslBrokers(),
    topic,
    clientId: 'okj-security-it',
    sasl: { mechanism: 'scram-sha-512', username: s.username, password: s.password },
    ssl: { caFile: s.caFile },
    ...overrides,
  };
}

/** The documented environment variables for the same connection (the CLI's and operators' way). */
export function secureEnv(topic: string): NodeJS.ProcessEnv {
  const s = security();
  return {
    OTEL_EXPORTER_KAFKA_BROKERS: saslBrokers().join(','),
    OTEL_EXPORTER_KAFKA_TOPIC: topic,
    OTEL_EXPORTER_KAFKA_SECURITY_PROTOCOL: 'sasl_ssl',
    OTEL_EXPORTER_KAFKA_SASL_MECHANISM: 'scram-sha-512',
    OTEL_EXPORTER_KAFKA_SASL_USERNAME: s.username,
    OTEL_EXPORTER_KAFKA_SASL_PASSWORD: s.password,
    OTEL_EXPORTER_KAFKA_CERTIFICATE: s.caFile,
  };
}

export interface CapturedLine {
  level: 'debug' | 'info' | 'warn' | 'error';
  message: string;
  attributes: string;
}

/** A logger that keeps every line (debug included) as text: what an operator's log pipeline would hold. */
export class CapturingLogger implements Logger {
  readonly lines: CapturedLine[] = [];

  #push(level: CapturedLine['level'], message: string, attributes?: Record<string, unknown>): void {
    let text: string;
    try {
      text = JSON.stringify(attributes ?? {}, (_k, v: unknown) =>
        v instanceof Error ? { name: v.name, message: v.message, stack: v.stack } : v,
      );
    } catch {
      text = '(attributes that do not serialize)';
    }
    this.lines.push({ level, message, attributes: text });
    if (process.env.OKJ_DEBUG) process.stderr.write(`${level} ${message} ${text}\n`);
  }

  debug = (m: string, a?: Record<string, unknown>): void => this.#push('debug', m, a);
  info = (m: string, a?: Record<string, unknown>): void => this.#push('info', m, a);
  warn = (m: string, a?: Record<string, unknown>): void => this.#push('warn', m, a);
  error = (m: string, a?: Record<string, unknown>): void => this.#push('error', m, a);

  text(): string {
    return this.lines.map((l) => `${l.level} ${l.message} ${l.attributes}`).join('\n');
  }
}

/** A config for both sides with the capturing logger. */
export function secureConfig(
  topic: string,
  logger: Logger,
  extra: Omit<OtelKafkaJaegerConfig, 'kafka' | 'logger'> = {},
  kafka: Partial<KafkaOptions> = {},
): OtelKafkaJaegerConfig {
  return { kafka: secureKafka(topic, kafka), logger, ...extra };
}
