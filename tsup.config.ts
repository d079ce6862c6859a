import { defineConfig } from 'tsup';

// The native Kafka client must be resolved at run time from the user's node_modules, never bundled.
const external = ['@confluentinc/kafka-javascript', '@opentelemetry/api', '@opentelemetry/sdk-trace-base'];

export default defineConfig([
  {
    entry: ['src/index.ts'],
    format: ['esm', 'cjs'],
    dts: true,
    sourcemap: true,
    // Both builds write to dist/ in parallel: this one cleans everything but the CLI's output.
    clean: ['!cli.js', '!cli.js.map'],
    target: 'node20',
    platform: 'node',
    splitting: false,
    treeshake: true,
    external,
  },
  {
    // The `otel-kafka-jaeger` command: one CommonJS file, runnable through the package's `bin`.
    entry: { cli: 'src/cli/main.ts' },
    format: ['cjs'],
    outExtension: () => ({ js: '.js' }),
    banner: { js: '#!/usr/bin/env node' },
    dts: false,
    sourcemap: true,
    clean: false,
    target: 'node20',
    platform: 'node',
    splitting: false,
    treeshake: true,
    external,
  },
]);
