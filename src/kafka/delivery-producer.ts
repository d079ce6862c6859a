// A thin layer over librdkafka's producer with one delivery callback for a whole set of messages. The
// KafkaJS-compatible send() costs a promise, a header conversion and a metadata record per message; an
// exporter writes one message per trace, about a hundred per export, and that overhead measured 25-40 %
// of the producing CPU (BENCHMARKS.md).
import kafkaJavascript from '@confluentinc/kafka-javascript';
import type { LibrdKafkaError, MessageHeader, Producer } from '@confluentinc/kafka-javascript';

import type { Logger } from '../logging/logger';
import type { RdKafkaConfig } from './client-config';

/** A message to produce. */
export interface ProducerMessage {
  key: string | null;
  value: Buffer;
  headers: Record<string, string>;
}

/** Counts the delivery reports of one send(); settles once every message reported. */
class PendingSend {
  #remaining: number;
  #error: unknown;
  readonly #resolve: () => void;
  readonly #reject: (err: unknown) => void;

  constructor(count: number, resolve: () => void, reject: (err: unknown) => void) {
    this.#remaining = count;
    this.#resolve = resolve;
    this.#reject = reject;
  }

  report(err: unknown): void {
    if (err && this.#error === undefined) this.#error = err;
    if (--this.#remaining > 0) return;
    if (this.#error === undefined) this.#resolve();
    else this.#reject(this.#error);
  }
}

export class DeliveryProducer {
  readonly #producer: Producer;
  readonly #headerArrays = new WeakMap<Record<string, string>, MessageHeader[]>();

  private constructor(producer: Producer) {
    this.#producer = producer;
  }

  /** Connects (librdkafka waits for broker metadata); rejects when that fails. */
  static connect(config: RdKafkaConfig, logger: Logger): Promise<DeliveryProducer> {
    const producer = new kafkaJavascript.Producer({ ...config, dr_cb: true });
    producer.on('delivery-report', (err: LibrdKafkaError | null, report: { opaque?: unknown }) => {
      (report.opaque as PendingSend).report(err);
    });
    producer.on('event.error', (err: LibrdKafkaError) => logger.warn('kafka producer error', { error: err.message }));
    return new Promise((resolve, reject) => {
      producer.connect({}, (err) => {
        if (err) {
          reject(err instanceof Error ? err : new Error(err.message));
          return;
        }
        // A librdkafka thread polls for delivery reports: no timer on the event loop, no added latency.
        producer.setPollInBackground(true);
        resolve(new DeliveryProducer(producer));
      });
    });
  }

  /** Produces every message; resolves when all are acknowledged, rejects with the first failure. */
  send(topic: string, messages: readonly ProducerMessage[]): Promise<void> {
    if (messages.length === 0) return Promise.resolve();
    return new Promise((resolve, reject) => {
      const pending = new PendingSend(messages.length, resolve, reject);
      for (const m of messages) {
        try {
          this.#producer.produce(topic, null, m.value, m.key ?? undefined, null, pending, this.#headers(m.headers));
        } catch (err) {
          // Not queued (e.g. the local queue is full): it will never report, so count it as reported now.
          pending.report(err);
        }
      }
    });
  }

  disconnect(): Promise<void> {
    return new Promise((resolve) => this.#producer.disconnect(5_000, () => resolve()));
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
