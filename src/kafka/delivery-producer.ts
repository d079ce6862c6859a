// A thin layer over librdkafka's producer with one delivery callback for a whole set of messages. The
// KafkaJS-compatible send() costs a promise, a header conversion and a metadata record per message; an
// exporter writes one message per trace, about a hundred per export, and that overhead measured 25-40 %
// of the producing CPU (BENCHMARKS.md).
import kafkaJavascript from '@confluentinc/kafka-javascript';
import type { LibrdKafkaError, MessageHeader } from '@confluentinc/kafka-javascript';

import { ProduceError } from '../errors/errors';
import type { Logger } from '../logging/logger';
import { connectWithin } from './bounded-connect';
import type { ConnectWithinOptions } from './bounded-connect';
import { InFlightCalls } from './in-flight-calls';
import type { ClientLogLine } from './kafka-logger';
import type { RdKafkaConfig } from './client-config';
import { kafkaCodeOf } from './kafka-errors';

/** A message to produce. */
export interface ProducerMessage {
  key: string | null;
  /** The partition to produce to; absent: librdkafka's partitioner chooses (by key). */
  partition?: number;
  value: Buffer;
  headers: Record<string, string>;
}

/** The part of the client's native-backed `Producer` this layer uses (a seam for unit tests). */
export interface NativeProducer {
  on(event: 'delivery-report', listener: (err: LibrdKafkaError | null, report: unknown) => void): unknown;
  on(event: 'event.error', listener: (err: LibrdKafkaError) => void): unknown;
  on(event: 'event.log', listener: (line: ClientLogLine) => void): unknown;
  connect(options: { timeout: number }, callback: (err: LibrdKafkaError | null | undefined) => void): unknown;
  setPollInBackground(enabled: boolean): unknown;
  produce(
    topic: string,
    partition: number | null,
    value: Buffer,
    key: string | undefined,
    timestamp: number | null,
    opaque: unknown,
    headers: MessageHeader[],
  ): unknown;
  disconnect(timeoutMillis: number, callback: () => void): unknown;
  getMetadata(
    options: { topic?: string; allTopics?: boolean; timeout?: number },
    callback: (err: LibrdKafkaError | null | undefined, metadata: NativeMetadata | undefined) => void,
  ): unknown;
}

/** The part of librdkafka's metadata this layer reads. */
export interface NativeMetadata {
  topics?: { name: string; partitions?: { id: number; leader: number }[] }[];
}

/** A topic's partitions as the brokers last described them. */
export interface TopicLayout {
  /** The number of partitions. */
  partitions: number;
  /** Whether each partition (by id) has a leader, so a message to it can be acknowledged. */
  hasLeader: boolean[];
}

/** Creates the native producer for a configuration. */
export type NativeProducerFactory = (config: RdKafkaConfig & { dr_cb: boolean }) => NativeProducer;

const createNativeProducer: NativeProducerFactory = (config) => new kafkaJavascript.Producer(config);

/** librdkafka's `RD_KAFKA_RESP_ERR__FATAL`: the producer instance can no longer produce. */
const ERR__FATAL = -150;

/**
 * Whether `err` says the producer is in a fatal state. An `event.error` arrives as a plain Error carrying
 * only librdkafka's text ("Local: Fatal error"), which the client parses into code -1, so the text counts.
 */
export function isFatal(err: unknown): boolean {
  if (typeof err !== 'object' || err === null) return false;
  if (kafkaCodeOf(err) === ERR__FATAL || (err as { isFatal?: unknown }).isFatal === true) return true;
  const message = (err as { message?: unknown }).message;
  return typeof message === 'string' && /^(local: )?fatal error$/i.test(message.trim());
}

/**
 * Counts the delivery reports of one send; settles once it is closed (no more messages) and every message
 * reported, or on fail().
 */
class PendingSend {
  #remaining = 0;
  #closed = false;
  #error: unknown;
  #settled = false;
  readonly #resolve: () => void;
  readonly #reject: (err: unknown) => void;
  readonly #onAcknowledged: ((index: number) => void) | undefined;
  readonly #onSettled: (self: PendingSend) => void;

  constructor(
    resolve: () => void,
    reject: (err: unknown) => void,
    onAcknowledged: ((index: number) => void) | undefined,
    onSettled: (self: PendingSend) => void,
  ) {
    this.#resolve = resolve;
    this.#reject = reject;
    this.#onAcknowledged = onAcknowledged;
    this.#onSettled = onSettled;
  }

  get settled(): boolean {
    return this.#settled;
  }

  /** One more message will report. */
  expect(): void {
    this.#remaining++;
  }

  /** No message is added any more. */
  close(): void {
    this.#closed = true;
    if (this.#remaining === 0) this.#settle();
  }

  report(index: number, err: unknown): void {
    if (this.#settled) return;
    if (err) this.#error ??= err;
    else this.#onAcknowledged?.(index);
    if (--this.#remaining > 0 || !this.#closed) return;
    this.#settle();
  }

  /** Settles now with `err`, whatever is still outstanding; later reports are ignored. */
  fail(err: unknown): void {
    if (this.#settled) return;
    this.#error = err;
    this.#settle();
  }

  #settle(): void {
    if (this.#settled) return;
    this.#settled = true;
    this.#onSettled(this);
    if (this.#error === undefined) this.#resolve();
    else this.#reject(this.#error);
  }
}

/**
 * Messages produced one at a time as they become ready (e.g. each as soon as it is encoded, so that the first
 * is on its way while the next is encoded), acknowledged together: {@link SendBatch.end} resolves once every
 * message added was acknowledged and rejects with the first failure.
 */
export interface SendBatch {
  /**
   * Produces one message now; its index is the number of messages added before it. librdkafka copies the value
   * before this returns (the binding produces with `RK_MSG_COPY`): the caller may reuse its bytes afterwards.
   */
  add(message: ProducerMessage): void;
  /** No more messages: resolves when every one added was acknowledged (at once when none was). */
  end(): Promise<void>;
}

/** The opaque value of one produced message: which send it belongs to, and its index there. */
class DeliveryTicket {
  constructor(
    readonly send: PendingSend,
    readonly index: number,
  ) {}
}

export class DeliveryProducer {
  readonly #producer: NativeProducer;
  readonly #logger: Logger;
  readonly #pending = new Set<PendingSend>();
  /** Metadata requests not yet answered: disconnect() waits for them. */
  readonly #metadataRequests = new InFlightCalls();
  #disconnected: Promise<void> | undefined;
  readonly #headerArrays = new WeakMap<Record<string, string>, MessageHeader[]>();
  #fatalError: ProduceError | undefined;

  private constructor(producer: NativeProducer, logger: Logger) {
    this.#producer = producer;
    this.#logger = logger;
    producer.on('delivery-report', (err, report) => this.#onDeliveryReport(err, report));
    producer.on('event.error', (err) => {
      if (isFatal(err)) this.#onFatal(err);
      else logger.warn('kafka producer error', { error: err.message });
    });
  }

  /**
   * Connects (librdkafka waits for broker metadata) within `within.timeoutMillis`, in attempts a shutdown can
   * abandon ({@link connectWithin}); rejects when that fails. The failed client is disconnected.
   *
   * @param onLog - hears librdkafka's own log lines (connection failures among them), from the first attempt.
   * @param within - the time limit, the abandoning signal and what ends the wait early.
   */
  static async connect(
    config: RdKafkaConfig,
    logger: Logger,
    within: ConnectWithinOptions,
    create: NativeProducerFactory = createNativeProducer,
    onLog?: (line: ClientLogLine) => void,
  ): Promise<DeliveryProducer> {
    const native = create({ ...config, dr_cb: true });
    if (onLog) native.on('event.log', onLog);
    const producer = new DeliveryProducer(native, logger);
    await connectWithin(native, within);
    // A librdkafka thread polls for delivery reports: no timer on the event loop, no added latency.
    native.setPollInBackground(true);
    return producer;
  }

  /**
   * Set once librdkafka reported a fatal error (e.g. the idempotent producer lost its sequence): this
   * producer then fails every send and must be replaced.
   */
  get fatalError(): ProduceError | undefined {
    return this.#fatalError;
  }

  /**
   * Produces every message; resolves when all are acknowledged, rejects with the first failure (or at once
   * with the fatal error, failing whatever was outstanding). `onAcknowledged` hears of each message Kafka
   * acknowledged, by index, while the send is pending.
   */
  send(topic: string, messages: readonly ProducerMessage[], onAcknowledged?: (index: number) => void): Promise<void> {
    const batch = this.openBatch(topic, onAcknowledged);
    for (const m of messages) {
      batch.add(m);
      // The fatal error failed this send; the rest would only be refused too.
      if (this.#fatalError) break;
    }
    return batch.end();
  }

  /**
   * A send whose messages are added one at a time, each produced at once (see {@link SendBatch}). After a fatal
   * error, messages added are refused and `end()` rejects with it.
   */
  openBatch(topic: string, onAcknowledged?: (index: number) => void): SendBatch {
    let resolveDone!: () => void;
    let rejectDone!: (err: unknown) => void;
    const done = new Promise<void>((resolve, reject) => {
      resolveDone = resolve;
      rejectDone = reject;
    });
    const pending = new PendingSend(resolveDone, rejectDone, onAcknowledged, (p) => this.#pending.delete(p));
    if (this.#fatalError) pending.fail(this.#fatalError);
    else this.#pending.add(pending);
    let index = 0;
    return {
      add: (m) => {
        const i = index++;
        if (pending.settled) return;
        pending.expect();
        try {
          this.#producer.produce(
            topic,
            m.partition ?? null,
            m.value,
            m.key ?? undefined,
            null,
            new DeliveryTicket(pending, i),
            this.#headers(m.headers),
          );
        } catch (err) {
          // Not queued (e.g. the local queue is full): it will never report, so count it as reported now.
          if (isFatal(err)) this.#onFatal(err);
          pending.report(i, err);
        }
      },
      end: () => {
        pending.close();
        return done;
      },
    };
  }

  /**
   * The topic's partition count and which partitions have a leader, from a metadata request to the
   * brokers. Rejects when the request fails or the topic has no partitions (e.g. it does not exist yet).
   */
  topicLayout(topic: string, timeoutMillis: number): Promise<TopicLayout> {
    if (this.#disconnected) return Promise.reject(new Error('metadata request refused: the Kafka producer is closing'));
    const request = new Promise<TopicLayout>((resolve, reject) => {
      this.#producer.getMetadata({ topic, allTopics: false, timeout: timeoutMillis }, (err, metadata) => {
        if (err) {
          reject(err instanceof Error ? err : new Error(err.message));
          return;
        }
        const partitions = metadata?.topics?.find((t) => t.name === topic)?.partitions ?? [];
        if (partitions.length === 0) {
          reject(new Error(`topic ${topic} has no partitions in the brokers' metadata`));
          return;
        }
        const count = Math.max(...partitions.map((p) => p.id)) + 1;
        const hasLeader = new Array<boolean>(count).fill(false);
        for (const p of partitions) hasLeader[p.id] = p.leader >= 0;
        resolve({ partitions: count, hasLeader });
      });
    });
    return this.#metadataRequests.track(request);
  }

  /**
   * Flushes (at most 5 s) and disconnects, once a metadata request in progress has been answered. Idempotent:
   * the binding never answers a second disconnect of a client.
   */
  disconnect(): Promise<void> {
    this.#disconnected ??= (async () => {
      // The binding creates the request's topic handle outside its connection lock: a disconnect meanwhile can
      // free the client under it.
      await this.#metadataRequests.settled();
      await new Promise<void>((resolve) => this.#producer.disconnect(5_000, () => resolve()));
    })();
    return this.#disconnected;
  }

  #onDeliveryReport(err: LibrdKafkaError | null, report: unknown): void {
    const ticket = typeof report === 'object' && report !== null ? (report as { opaque?: unknown }).opaque : undefined;
    if (!(ticket instanceof DeliveryTicket)) {
      // Not one of ours (nothing else produces on this client): nothing waits for it.
      this.#logger.debug('ignoring a delivery report without a pending message', { error: err?.message });
      return;
    }
    if (err && isFatal(err)) this.#onFatal(err);
    ticket.send.report(ticket.index, err);
  }

  #onFatal(cause: unknown): void {
    if (this.#fatalError) return;
    const detail = cause instanceof Error ? cause.message : String(cause);
    this.#fatalError = new ProduceError(
      `the Kafka producer hit a fatal error (${detail}); its unacknowledged messages are failed and the next ` +
        'export uses a new producer',
      { retriable: true, kafkaCode: ERR__FATAL, kafkaName: 'ERR__FATAL', cause },
    );
    this.#logger.error('kafka producer hit a fatal error; it will be replaced', {
      error: detail,
      pendingSends: this.#pending.size,
    });
    for (const pending of [...this.#pending]) pending.fail(this.#fatalError);
  }

  #headers(headers: Record<string, string>): MessageHeader[] {
    let array = this.#headerArrays.get(headers);
    if (!array) {
      array = Object.entries(headers).map(([k, v]) => ({ [k]: v }));
      this.#headerArrays.set(headers, array);
    }
    return array;
  }
}
