/**
 * OpenTelemetry tracing that survives Jaeger outages: spans go through Apache Kafka, and a forwarder
 * commits an offset only after Jaeger accepted the data.
 *
 * @packageDocumentation
 */
export { VERSION } from './version';
