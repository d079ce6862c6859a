import { defineConfig } from 'tsup';

// The native Kafka client must be resolved at run time from the user's node_modules, never bundled.
const external = ['@confluentinc/kafka-javascript', '@opentelemetry/api', '@opentelemetry/sdk-trace-base'];

export default defineConfig([
  {
    // `otel-kafka-jaeger/config` is a second entry; shared code goes into chunks both import, so there is one
    // copy of each class (a ConfigError thrown by resolveConfig is an instance of the root's ConfigError).
    entry: { index: 'src/index.ts', config: 'src/config/index.ts' },
    format: ['esm', 'cjs'],
    dts: true,
    sourcemap: true,
    // Both builds write to dist/ in parallel: this one cleans everything but the CLI's output.
    clean: ['!cli.js', '!cli.js.map'],
    target: 'node20',
    platform: 'node',
    splitting: true,
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
