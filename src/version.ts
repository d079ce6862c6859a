/**
 * The version of this package, as published.
 *
 * @example
 * ```ts
 * import { VERSION } from 'otel-kafka-jaeger';
 * console.log(`otel-kafka-jaeger ${VERSION}`);
 * ```
 */
export const VERSION = '0.1.0';
