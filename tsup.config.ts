import { defineConfig } from 'tsup';

export default defineConfig({
  entry: ['src/index.ts'],
  format: ['esm', 'cjs'],
  dts: true,
  sourcemap: true,
  clean: true,
  target: 'node20',
  platform: 'node',
  splitting: false,
  treeshake: true,
  // The native Kafka client must be resolved at run time from the user's node_modules, never bundled.
  external: ['@confluentinc/kafka-javascript', '@opentelemetry/api', '@opentelemetry/sdk-trace-base'],
});
