// Starts the OpenTelemetry SDK. Import this module before anything that loads `node:http`:
// HttpInstrumentation patches `http` when it is required, so a server module loaded earlier goes untraced.
import { HttpInstrumentation } from '@opentelemetry/instrumentation-http';
import { NodeSDK } from '@opentelemetry/sdk-node';
import { KafkaSpanExporter } from 'otel-kafka-jaeger';

// Everything comes from the environment: OTEL_SERVICE_NAME (read by NodeSDK), OTEL_EXPORTER_KAFKA_BROKERS
// and OTEL_EXPORTER_KAFKA_TOPIC (read by KafkaSpanExporter), plus the other OTEL_EXPORTER_KAFKA_* variables.
export const sdk = new NodeSDK({
  traceExporter: new KafkaSpanExporter(),
  instrumentations: [new HttpInstrumentation()],
  // NodeSDK would otherwise start OTLP metric and log exporters aimed at localhost:4318; this example
  // exports traces only.
  metricReaders: [],
  logRecordProcessors: [],
});

sdk.start();
