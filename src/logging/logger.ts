import { diag } from '@opentelemetry/api';

import { boundedText } from '../errors/bounded-text';

/**
 * Where this library writes its log lines. Attributes never contain secrets (passwords, SASL or TLS key
 * material are redacted before they reach a logger).
 *
 * @example
 * ```ts
 * const logger: Logger = {
 *   debug: () => {},
 *   info: (msg, attrs) => console.log(JSON.stringify({ level: 'info', msg, ...attrs })),
 *   warn: (msg, attrs) => console.warn(JSON.stringify({ level: 'warn', msg, ...attrs })),
 *   error: (msg, attrs) => console.error(JSON.stringify({ level: 'error', msg, ...attrs })),
 * };
 * ```
 */
export interface Logger {
  /** Detail for troubleshooting. */
  debug(message: string, attributes?: Record<string, unknown>): void;
  /** Normal operation worth knowing: started, stopped, paused, resumed. */
  info(message: string, attributes?: Record<string, unknown>): void;
  /** Something is wrong but handled: a retry, an ignored environment value, a dead-lettered record. */
  warn(message: string, attributes?: Record<string, unknown>): void;
  /** Something failed. */
  error(message: string, attributes?: Record<string, unknown>): void;
}

/**
 * The default logger: OpenTelemetry's `diag`, which is silent unless the application installed a
 * DiagLogger (`diag.setLogger(...)`).
 */
export const diagLogger: Logger = {
  debug: (message, attributes) => diag.debug(message, ...(attributes ? [attributes] : [])),
  info: (message, attributes) => diag.info(message, ...(attributes ? [attributes] : [])),
  warn: (message, attributes) => diag.warn(message, ...(attributes ? [attributes] : [])),
  error: (message, attributes) => diag.error(message, ...(attributes ? [attributes] : [])),
};

/** Configuration warnings already printed to stderr (bounded: a process has few distinct ones). */
const printedConfigWarnings = new Set<string>();
const MAX_PRINTED_CONFIG_WARNINGS = 100;

/**
 * The logger for configuration warnings (unknown fields, ignored environment values). With the default
 * logger ({@link diagLogger}) each distinct warning also goes to stderr once, as a Node.js process warning
 * (type `OtelKafkaJaegerConfigWarning`): `diag` prints nothing unless the application installed a DiagLogger,
 * and a misspelt option must not be ignored unseen. `node --no-warnings` silences them; a configured `logger`
 * receives them instead.
 */
export function configLogger(logger: Logger): Logger {
  if (logger !== diagLogger) return logger;
  return {
    ...diagLogger,
    warn: (message, attributes) => {
      diagLogger.warn(message, attributes);
      const text = attributes === undefined ? message : `${message} ${JSON.stringify(attributes)}`;
      if (printedConfigWarnings.has(text) || printedConfigWarnings.size >= MAX_PRINTED_CONFIG_WARNINGS) return;
      printedConfigWarnings.add(text);
      process.emitWarning(text, { type: 'OtelKafkaJaegerConfigWarning', code: 'OTEL_KAFKA_JAEGER_CONFIG' });
    },
  };
}

/**
 * `logger` with every string attribute (and the message) passed through {@link boundedText}: what the
 * forwarder logs may quote record content, which a hostile producer controls. A logger that throws is
 * contained: logging never breaks forwarding.
 */
export function boundedLogger(logger: Logger): Logger {
  const wrap =
    (level: keyof Logger) =>
    (message: string, attributes?: Record<string, unknown>): void => {
      try {
        logger[level](boundedText(message), attributes === undefined ? undefined : boundAttributes(attributes));
      } catch {
        // A failing custom logger must not turn a handled condition into a failed delivery.
      }
    };
  return { debug: wrap('debug'), info: wrap('info'), warn: wrap('warn'), error: wrap('error') };
}

function boundAttributes(attributes: Record<string, unknown>): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const [key, value] of Object.entries(attributes))
    out[key] = typeof value === 'string' ? boundedText(value) : value;
  return out;
}
