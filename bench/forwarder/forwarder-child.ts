// One forwarder run in one fresh process: a KafkaToJaegerForwarder with its own consumer group drains the
// pre-filled topic into one sink, and this prints how long until the sink had accepted every record and what
// that cost this process (user + system CPU, which includes librdkafka's native threads). Started by run.ts;
// not meant to be run by hand, but it can be:
//   node --import tsx bench/forwarder/forwarder-child.ts '{"brokers":["127.0.0.1:39092"],"topic":"t",...}'
import { existsSync, mkdirSync, writeFileSync } from 'node:fs';
import { Session } from 'node:inspector/promises';
import { dirname, join } from 'node:path';
import { monitorEventLoopDelay, performance } from 'node:perf_hooks';
import { pathToFileURL } from 'node:url';

import kafkaJavascript, { KafkaJS } from '@confluentinc/kafka-javascript';
import type { LibrdKafkaError, Message } from '@confluentinc/kafka-javascript';

import { KafkaToJaegerForwarder } from '../../src/forwarder/kafka-to-jaeger-forwarder';
import type { Logger } from '../../src/logging/logger';
import { otlpHttpSink } from '../../src/sinks/otlp-http-sink';
import type { Sink, SinkRecord, SinkResult, SinkSendOptions } from '../../src/sinks/sink';
import { RESULT_PREFIX, START_LINE, STOPPED_PREFIX } from './protocol';
import type { ForwarderResult, ForwarderSpec } from './protocol';
import { threadCpuMicros, threadTicks } from './proc-stat';

const THRIFT_SINK_FILE = join(__dirname, '..', '..', 'src', 'sinks', 'jaeger-thrift-http-sink.ts');
const STOP_TIMEOUT_MILLIS = 30_000;
/** `OKJ_BENCH_VERBOSE=1`: log every sink request and the forwarder's info lines, with ms since start. */
const VERBOSE = process.env.OKJ_BENCH_VERBOSE === '1';
const T0 = performance.now();
const trace = (line: string): void => {
  if (VERBOSE) process.stderr.write(`  [child +${(performance.now() - T0).toFixed(0)} ms] ${line}\n`);
};

/** Our own ceiling: a sink that accepts every request at once, so only the forwarder's own work is left. */
const discardSink: Sink = {
  name: 'discard',
  send: () => Promise.resolve(),
  close: () => Promise.resolve(),
};

type ThriftSinkFactory = (options: { url: string }) => Sink;

/**
 * The Thrift sink is being written beside this benchmark: loaded by path, so this file compiles whether or not
 * it exists yet (run.ts skips the contender when it does not).
 */
async function thriftSink(url: string): Promise<Sink> {
  if (!existsSync(THRIFT_SINK_FILE)) throw new Error(`${THRIFT_SINK_FILE} does not exist`);
  const mod = (await import(pathToFileURL(THRIFT_SINK_FILE).href)) as {
    jaegerThriftHttpSink?: ThriftSinkFactory;
    default?: { jaegerThriftHttpSink?: ThriftSinkFactory };
  };
  const factory = mod.jaegerThriftHttpSink ?? mod.default?.jaegerThriftHttpSink;
  if (!factory) throw new Error(`${THRIFT_SINK_FILE} exports no jaegerThriftHttpSink`);
  return factory({ url });
}

async function sinkFor(spec: ForwarderSpec): Promise<Sink> {
  const url = (): string => {
    if (!spec.url) throw new Error(`sink ${spec.sink} needs a url`);
    return spec.url;
  };
  switch (spec.sink) {
    case 'discard':
      return discardSink;
    case 'otlp-http':
      return otlpHttpSink({ url: url() });
    case 'otlp-grpc': {
      // Loaded only here, so no other run loads grpc-js.
      const { otlpGrpcSink } = await import('../../src/sinks/otlp-grpc-sink.js');
      return otlpGrpcSink({ url: url() });
    }
    case 'jaeger-thrift':
      return thriftSink(url());
  }
}

/** What reached the end of the pipeline: records (one trace each) and requests, with their first and last time. */
class Progress {
  readonly #expected: number;
  readonly #onDone: () => void;
  records = 0;
  requests = 0;
  firstAt: number | undefined;
  lastAt: number | undefined;

  constructor(expected: number, onDone: () => void) {
    this.#expected = expected;
    this.#onDone = onDone;
  }

  add(records: number): void {
    const now = performance.now();
    this.records += records;
    this.requests += 1;
    this.firstAt ??= now;
    this.lastAt = now;
    if (this.records >= this.#expected) this.#onDone();
  }
}

/**
 * Wraps the sink under test and counts what it accepted. Every record of the topic is one trace, so the run is
 * over when the sink has accepted as many records as the topic holds (for Jaeger without a batch processor,
 * accepted means stored; run.ts verifies that with a query afterwards).
 */
class CountingSink implements Sink {
  readonly name: string;
  readonly #inner: Sink;
  readonly #progress: Progress;

  constructor(inner: Sink, progress: Progress) {
    this.#inner = inner;
    this.name = inner.name;
    this.#progress = progress;
  }

  async send(records: readonly SinkRecord[], options: SinkSendOptions): Promise<SinkResult | void> {
    const sent = performance.now();
    trace(`request of ${records.length} records sent`);
    const result = await this.#inner.send(records, options);
    if (VERBOSE) {
      const bytes = records.reduce((n, r) => n + r.value.length, 0);
      trace(`request of ${records.length} records, ${bytes} B accepted in ${(performance.now() - sent).toFixed(0)} ms`);
    }
    this.#progress.add(records.length);
    return result;
  }

  close(): Promise<void> {
    return this.#inner.close();
  }
}

/** What drains the topic in this process: the forwarder, or the bare consumer under it. */
interface Drainer {
  readonly sinkName: string;
  start(): Promise<void>;
  stop(): Promise<void>;
  /** For the last line and for error messages. */
  health(): unknown;
}

/** The consumer properties a spec sets (passed to the forwarder through `kafka.rdkafka`). */
function consumerProperties(spec: ForwarderSpec): Record<string, number> {
  const cache = spec.settings.consumerCacheMillis;
  return cache === undefined ? {} : { 'js.consumer.max.cache.size.per.worker.ms': cache };
}

async function forwarderDrainer(spec: ForwarderSpec, progress: Progress, logger: Logger): Promise<Drainer> {
  const sink = new CountingSink(await sinkFor(spec), progress);
  const forwarder = new KafkaToJaegerForwarder({
    kafka: { brokers: spec.brokers, topic: spec.topic, rdkafka: consumerProperties(spec) },
    forwarder: {
      groupId: spec.groupId,
      sink,
      batch: {
        ...(spec.settings.maxRecords !== undefined && { maxRecords: spec.settings.maxRecords }),
        ...(spec.settings.maxBytes !== undefined && { maxBytes: spec.settings.maxBytes }),
        ...(spec.settings.lingerMillis !== undefined && { lingerMillis: spec.settings.lingerMillis }),
      },
      ...(spec.settings.maxInFlightRequests !== undefined && {
        maxInFlightRequests: spec.settings.maxInFlightRequests,
      }),
      ...(spec.settings.maxBufferedBytes !== undefined && { maxBufferedBytes: spec.settings.maxBufferedBytes }),
    },
    logger,
  });
  return {
    sinkName: sink.name,
    start: () => forwarder.start(),
    // stop() drains and commits what was accepted, so the orchestrator can check the group's offsets.
    stop: () => forwarder.stop(),
    health: () => forwarder.health(),
  };
}

/** The forwarder's default `maxRecords`, which also sizes its consumer's batches. */
const FORWARDER_DEFAULT_MAX_RECORDS = 2_000;

/**
 * The Kafka client alone, configured as the forwarder configures its consumer (see `#doStart` in
 * kafka-to-jaeger-forwarder.ts), doing nothing with the records.
 */
function consumerDrainer(spec: ForwarderSpec, progress: Progress): Drainer {
  const maxRecords = spec.settings.maxRecords ?? FORWARDER_DEFAULT_MAX_RECORDS;
  const kafka = new KafkaJS.Kafka({ kafkaJS: { logLevel: KafkaJS.logLevel.NOTHING } as KafkaJS.KafkaConfig });
  const consumer = kafka.consumer({
    'bootstrap.servers': spec.brokers.join(','),
    'group.id': spec.groupId,
    'enable.auto.commit': false,
    'auto.offset.reset': 'earliest',
    'partition.assignment.strategy': 'cooperative-sticky',
    'js.consumer.max.batch.size': Math.max(32, Math.min(maxRecords, 10_000)),
    ...consumerProperties(spec),
  });
  let partitions: number[] = [];
  return {
    sinkName: 'none (consumer only)',
    start: async () => {
      await consumer.connect();
      await consumer.subscribe({ topics: [spec.topic] });
      void consumer
        .run({
          eachBatchAutoResolve: true,
          eachBatch: ({ batch }) => {
            if (!partitions.includes(batch.partition)) partitions = [...partitions, batch.partition];
            progress.add(batch.messages.length);
            return Promise.resolve();
          },
        })
        .catch((err: unknown) => process.stderr.write(`  [consumer] run failed: ${String(err)}\n`));
    },
    stop: () => consumer.disconnect(),
    health: () => ({ partitions, received: progress.records }),
  };
}

/**
 * librdkafka's own consumer API under the KafkaJS layer (`KafkaConsumer.consume(n)` in a loop, group member,
 * cooperative-sticky, nothing committed), discarding: what a consume loop below the KafkaJS layer would cost.
 */
function rawConsumerDrainer(spec: ForwarderSpec, progress: Progress): Drainer {
  const maxRecords = spec.settings.maxRecords ?? FORWARDER_DEFAULT_MAX_RECORDS;
  const consumer = new kafkaJavascript.KafkaConsumer(
    {
      'bootstrap.servers': spec.brokers.join(','),
      'group.id': spec.groupId,
      'enable.auto.commit': false,
      'enable.auto.offset.store': false,
      'partition.assignment.strategy': 'cooperative-sticky',
    },
    { 'auto.offset.reset': 'earliest' },
  );
  const partitions = new Set<number>();
  let running = true;
  const loop = (): void => {
    if (!running) return;
    consumer.consume(maxRecords, (err: LibrdKafkaError | null, messages: Message[]) => {
      if (err) process.stderr.write(`  [raw consumer] ${err.message}\n`);
      for (const m of messages ?? []) partitions.add(m.partition);
      if (messages?.length) progress.add(messages.length);
      setImmediate(loop);
    });
  };
  return {
    sinkName: 'none (raw consumer only)',
    start: () =>
      new Promise<void>((resolve, reject) => {
        consumer.connect({}, (err: LibrdKafkaError | null) => {
          if (err) return reject(new Error(err.message));
          consumer.setDefaultConsumeTimeout(100);
          // Return what is there once the first message arrived, instead of waiting the timeout for `n`.
          (
            consumer as unknown as { setDefaultIsTimeoutOnlyForFirstMessage(v: boolean): void }
          ).setDefaultIsTimeoutOnlyForFirstMessage(true);
          consumer.subscribe([spec.topic]);
          loop();
          resolve();
        });
      }),
    stop: () =>
      new Promise<void>((resolve) => {
        running = false;
        consumer.disconnect(() => resolve());
      }),
    health: () => ({ partitions: [...partitions], received: progress.records }),
  };
}

/** Counts warnings and errors (a clean drain has none) and passes them on to stderr. */
class CountingLogger implements Logger {
  warnings = 0;
  firstWarning: string | undefined;

  debug(): void {}

  info(message: string, attributes?: Record<string, unknown>): void {
    trace(`info: ${message} ${attributes ? JSON.stringify(attributes) : ''}`);
  }

  warn(message: string, attributes?: Record<string, unknown>): void {
    this.#count('warn', message, attributes);
  }

  error(message: string, attributes?: Record<string, unknown>): void {
    this.#count('error', message, attributes);
  }

  #count(level: string, message: string, attributes: Record<string, unknown> | undefined): void {
    this.warnings += 1;
    const line = `${level}: ${message} ${attributes ? JSON.stringify(attributes) : ''}`.trim();
    this.firstWarning ??= line;
    process.stderr.write(`  [forwarder] ${line}\n`);
  }
}

/**
 * A V8 CPU profile of the measured window only (`node --cpu-prof` would include start-up and module loading,
 * which tsx makes large): started right before `forwarder.start()`, stopped once the sink accepted everything.
 */
async function startProfile(file: string | undefined): Promise<(() => Promise<void>) | undefined> {
  if (!file) return undefined;
  const session = new Session();
  session.connect();
  await session.post('Profiler.enable');
  await session.post('Profiler.start');
  return async () => {
    const { profile } = await session.post('Profiler.stop');
    session.disconnect();
    mkdirSync(dirname(file), { recursive: true });
    writeFileSync(file, JSON.stringify(profile));
  };
}

function withTimeout<T>(what: string, work: Promise<T>, timeoutMillis: number): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`${what} did not finish within ${timeoutMillis} ms`)), timeoutMillis);
  });
  return Promise.race([work, timeout]).finally(() => clearTimeout(timer));
}

async function main(arg: string | undefined): Promise<void> {
  if (!arg) throw new Error('usage: forwarder-child.ts <spec json>');
  const spec = JSON.parse(arg) as ForwarderSpec;
  let markDrained: () => void = () => undefined;
  const drained = new Promise<void>((resolve) => {
    markDrained = resolve;
  });
  const progress = new Progress(spec.expectedRecords, () => markDrained());
  const logger = new CountingLogger();
  const drainer =
    spec.mode === 'consumer'
      ? consumerDrainer(spec, progress)
      : spec.mode === 'raw-consumer'
        ? rawConsumerDrainer(spec, progress)
        : await forwarderDrainer(spec, progress, logger);

  const stopProfile = await startProfile(spec.cpuProfileFile);
  process.stdout.write(`${START_LINE}\n`);
  const loopDelay = monitorEventLoopDelay({ resolution: 10 });
  loopDelay.enable();
  const threadsBefore = threadTicks();
  const cpuBefore = process.cpuUsage();
  const started = performance.now();
  let stallTimer: NodeJS.Timeout | undefined;
  try {
    await withTimeout('start()', drainer.start(), spec.stallTimeoutMillis);
    const startMillis = performance.now() - started;
    // Event-driven (no polling in the measured process); a slow check only catches a stalled drain.
    const stalled = new Promise<never>((_, reject) => {
      let last = { records: -1, at: performance.now() };
      stallTimer = setInterval(() => {
        const now = performance.now();
        if (progress.records !== last.records) last = { records: progress.records, at: now };
        else if (now - last.at > spec.stallTimeoutMillis) {
          reject(
            new Error(
              `no progress for ${spec.stallTimeoutMillis} ms: ${progress.records} of ${spec.expectedRecords} records ` +
                `done; health ${JSON.stringify(drainer.health())}`,
            ),
          );
        }
      }, 1_000);
    });
    await Promise.race([drained, stalled]);
    clearInterval(stallTimer);
    const finished = progress.lastAt ?? performance.now();
    const cpu = process.cpuUsage(cpuBefore);
    loopDelay.disable();
    const result: ForwarderResult = {
      sink: drainer.sinkName,
      acceptedRecords: progress.records,
      acceptedSpans: progress.records * spec.spansPerRecord,
      requests: progress.requests,
      startMillis,
      firstAcceptMillis: (progress.firstAt ?? NaN) - started,
      elapsedMillis: finished - started,
      cpuUserMicros: cpu.user,
      cpuSystemMicros: cpu.system,
      threadCpuMicros: threadCpuMicros(threadsBefore, threadTicks()),
      eventLoopDelayMaxMillis: loopDelay.max / 1e6,
      eventLoopDelayP99Millis: loopDelay.percentile(99) / 1e6,
      warnings: logger.warnings,
      ...(logger.firstWarning !== undefined && { firstWarning: logger.firstWarning }),
      rssBytes: process.memoryUsage().rss,
    };
    await stopProfile?.();
    process.stdout.write(`${RESULT_PREFIX}${JSON.stringify(result)}\n`);
  } finally {
    clearInterval(stallTimer);
    await withTimeout('stop()', drainer.stop(), STOP_TIMEOUT_MILLIS);
  }
  process.stdout.write(`${STOPPED_PREFIX}${JSON.stringify(drainer.health())}\n`);
}

main(process.argv[2]).then(
  () => process.exit(0),
  (err: unknown) => {
    console.error(`forwarder child failed: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}`);
    process.exit(1);
  },
);
