// Entry point. `./tracing` comes first on purpose: the SDK must be started before `node:http` is loaded.
import { sdk } from './tracing';
import { startServer } from './server';

async function main(): Promise<void> {
  const server = await startServer(Number(process.env.PORT ?? 8080));
  const address = server.address();
  const port = typeof address === 'object' && address ? address.port : undefined;
  process.stdout.write(`${JSON.stringify({ event: 'listening', port })}\n`);

  let stopping = false;
  const shutdown = (signal: string): void => {
    if (stopping) return;
    stopping = true;
    process.stdout.write(`${JSON.stringify({ event: 'stopping', signal })}\n`);
    // Stop taking requests, let the ones in flight end (their spans with them), then flush: sdk.shutdown()
    // exports what the batch processor still holds through KafkaSpanExporter and waits for Kafka's acks.
    server.close(() => {
      sdk.shutdown().then(
        () => process.exit(0),
        (err: unknown) => {
          process.stderr.write(`shutdown failed: ${String(err)}\n`);
          process.exit(1);
        },
      );
    });
    server.closeIdleConnections();
  };
  process.on('SIGTERM', () => shutdown('SIGTERM'));
  process.on('SIGINT', () => shutdown('SIGINT'));
}

main().catch((err: unknown) => {
  process.stderr.write(`${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`);
  process.exit(1);
});
