// The three ways a secured connection is misconfigured — a wrong password, a CA that did not sign the broker's
// certificate, a plaintext client dialling the TLS listener — and a broker address the certificate does not
// name (hostname verification is on by default). Each gives one error line naming the cause, never a forwarder
// that reports itself running, never an export that succeeds, and never the password in any output.
import { KafkaSpanExporter } from '../../../src/exporter/kafka-span-exporter';
import { KafkaToJaegerForwarder } from '../../../src/forwarder/kafka-to-jaeger-forwarder';
import type { KafkaOptions } from '../../../src/config/types';
import { FAILED, exportSpans } from '../exporter/helpers';
import { createTopic } from '../harness/kafka';
import { uniqueName } from '../harness/names';
import { endpoints, sharedKafka } from '../harness/stack';
import { makeTraces } from '../harness/traffic';
import { CapturingLogger, secureConfig, security } from './helpers';

jest.setTimeout(60_000);

const WRONG_PASSWORD = 'okj-wrong-password-7f3a9c';

const cases: [string, string, () => Partial<KafkaOptions>][] = [
  [
    'a wrong password',
    'KAFKA_AUTHENTICATION',
    () => ({ sasl: { mechanism: 'scram-sha-512', username: security().username, password: WRONG_PASSWORD } }),
  ],
  [
    'a CA that did not sign the broker certificate',
    'KAFKA_TLS_VERIFICATION',
    () => ({ ssl: { caFile: security().otherCaFile } }),
  ],
  [
    'a plaintext client on the TLS listener',
    'KAFKA_SECURITY_PROTOCOL',
    () => ({ ssl: false, securityProtocol: 'plaintext', sasl: undefined }),
  ],
  [
    'a broker address the certificate does not name',
    'KAFKA_TLS_VERIFICATION',
    () => ({ brokers: [`localhost:${sharedKafka().saslSslPort}`] }),
  ],
];

async function until(what: string, probe: () => boolean, timeoutMillis: number): Promise<void> {
  const deadline = Date.now() + timeoutMillis;
  while (!probe()) {
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMillis} ms waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

function expectNoSecret(text: string): void {
  for (const secret of [security().password, WRONG_PASSWORD, security().keystorePassword]) {
    expect(text.includes(secret)).toBe(false);
  }
}

describe.each(cases)('%s', (_name, code, kafka) => {
  it('the exporter fails its export (never SUCCESS) naming the cause, before its timeout', async () => {
    const topic = await createTopic();
    const logger = new CapturingLogger();
    const exporter = new KafkaSpanExporter(
      secureConfig(topic, logger, { exporter: { timeoutMillis: 3_000 } }, kafka()),
    );
    const t0 = Date.now();
    const result = await exportSpans(exporter, makeTraces(uniqueName('sec-err'), 1)[0]!);
    const elapsed = Date.now() - t0;
    await exporter.shutdown();
    expect(result.code).toBe(FAILED);
    // Named as soon as librdkafka logs it, not when the 3 s export timeout expires.
    expect(elapsed).toBeLessThan(3_000);
    expect((result.error as { code?: string } | undefined)?.code).toBe(code);
    expect(result.error?.message).toMatch(/^cannot connect to Kafka at .*: .*check kafka\./);
    const named = logger.lines.filter((l) => l.level === 'error' && l.attributes.includes(`"code":"${code}"`));
    expect(named).toHaveLength(1);
    expectNoSecret(`${logger.text()}\n${result.error?.message ?? ''}\n${result.error?.stack ?? ''}`);
  });
});

/** The forwarder's side of one case: resolves once checked; the forwarder is stopped whatever happens. */
async function forwarderCase(code: string, kafka: Partial<KafkaOptions>): Promise<void> {
  const topic = await createTopic();
  const logger = new CapturingLogger();
  const forwarder = new KafkaToJaegerForwarder(
    secureConfig(
      topic,
      logger,
      {
        forwarder: {
          groupId: uniqueName('okj-sec-err'),
          sink: { type: 'otlp-http', url: endpoints.jaegerOtlpHttpUrl },
        },
      },
      kafka,
    ),
  );
  let started = false;
  const start = forwarder.start().then(
    () => (started = true),
    (err: Error) => logger.error('start() rejected', { error: err.message }),
  );
  try {
    const named = (): string[] =>
      logger.lines
        .filter((l) => l.level === 'error' && l.attributes.includes(`"code":"${code}"`))
        .map((l) => l.message);
    // The cause is logged as soon as librdkafka names it; start() fails when the connect gives up (30 s), with it.
    await until(`an error line with code ${code}`, () => named().length > 0, 15_000);
    // Up to two connect timeouts: the binding runs each connect on one of libuv's 4 worker threads, which the
    // exporter cases' refused connects (above) may still hold.
    await until('start() to fail', () => logger.lines.some((l) => l.message === 'start() rejected'), 100_000);
    expect(named()).toHaveLength(1);
    expect(named()[0]).toMatch(/^Kafka connection refused: .*check kafka\./);
    const rejected = logger.lines.find((l) => l.message === 'start() rejected');
    expect(rejected?.attributes).toMatch(/cannot join consumer group .*: .*check kafka\./);
    expect(started).toBe(false);
    expect(forwarder.health().state).not.toBe('running');
    expectNoSecret(`${logger.text()}\n${JSON.stringify(forwarder.health())}`);
  } finally {
    await forwarder.stop();
    await start;
  }
  expectNoSecret(logger.text());
}

// The four forwarders side by side.
it('the forwarder logs one error naming each cause and never reports itself running', async () => {
  await Promise.all(cases.map(([, code, kafka]) => forwarderCase(code, kafka())));
}, 120_000);
