import { diag } from '@opentelemetry/api';

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
