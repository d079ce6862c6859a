// Batch → deliver: takes batches of fetched records while request slots are free and a batch is due, sends
// each to the sink (retrying, bisecting), and settles what it returns: accepted records complete their offsets,
// undeliverable ones are settled on the side, and a delivery that threw puts its records back.
import type { ResolvedForwarderConfig } from './forwarder-config';
import type { Logger } from '../logging/logger';
import { spansIn } from '../serializers/record-content';
import type { Sink, SinkResult } from '../sinks/sink';
import { Batcher } from './batcher';
import type { DeadLetterWriter } from './dead-letter';
import { asSinkError, deliverBatch } from './delivery';
import type { ForwarderMetrics } from './forwarder-metrics';
import { errorInfo } from './partition-state';
import type { ForwardRecord, PartitionState } from './partition-state';
import type { Partitions } from './partitions';
import type { PauseController } from './pause-controller';
import { SideSettler } from './side-settler';

/** How long the partitions of a delivery that threw wait before their records are tried again. */
const RECOVER_DELAY_MILLIS = 1_000;

export interface DispatcherOptions {
  readonly options: ResolvedForwarderConfig;
  readonly sink: Sink;
  readonly logger: Logger;
  readonly metrics: ForwarderMetrics;
  readonly deadLetters: DeadLetterWriter;
  readonly partitions: Partitions;
  readonly pauses: PauseController;
  /** Aborted when the forwarder stops: nothing new starts, retries end. */
  readonly signal: AbortSignal;
  /** Called whenever a request or a side settlement ended (the forwarder may have become idle). */
  readonly settled: () => void;
}

/** Sends due batches to the sink, up to `maxInFlightRequests` at a time. */
export class Dispatcher {
  readonly #o: DispatcherOptions;
  readonly #batcher: Batcher;
  readonly #settler: SideSettler;
  #inFlight = 0;
  #draining = false;
  #lingerTimer: NodeJS.Timeout | undefined;

  constructor(options: DispatcherOptions) {
    this.#o = options;
    this.#batcher = new Batcher(options.options);
    this.#settler = new SideSettler({
      ...options,
      accepted: (records, result) => this.#accepted(records, result),
      settled: (record) => this.#settled([record]),
      requeue: (records, err) => this.#recover(records, err),
    });
  }

  /** Sink requests in flight. */
  get inFlight(): number {
    return this.#inFlight;
  }

  /** Whether a request or a side settlement is under way. */
  get busy(): boolean {
    return this.#inFlight > 0 || this.#settler.active > 0;
  }

  /** From now on every record is due at once: nothing more will be fetched. */
  drain(): void {
    this.#draining = true;
    this.pump();
  }

  /** Nothing starts any more (the signal is aborted too). */
  stop(): void {
    clearTimeout(this.#lingerTimer);
  }

  /** Starts sink requests while there is capacity and a batch is due (full, or its oldest record lingered). */
  pump(): void {
    const { partitions, options, signal } = this.#o;
    while (this.#inFlight < options.maxInFlightRequests && !signal.aborted) {
      const due = this.#batcher.dueIn(partitions.values(), Date.now(), this.#draining);
      if (due === undefined) return;
      if (due > 0) {
        this.#lingerTimer ??= setTimeout(() => {
          this.#lingerTimer = undefined;
          this.pump();
        }, due);
        return;
      }
      const batch = this.#batcher.take(partitions.values());
      if (batch.length === 0) return;
      this.#inFlight++;
      void this.#deliver(batch)
        .catch((err: unknown) => this.#recover(batch, err))
        .finally(() => {
          this.#inFlight--;
          this.#settled(batch);
        })
        .catch(() => undefined);
    }
  }

  /** Delivers a batch; its partitions are paused while its request keeps failing retriably. */
  #deliver(records: ForwardRecord[]): Promise<void> {
    const { sink, options, signal, metrics, logger, pauses } = this.#o;
    return deliverBatch(records, {
      sink,
      retry: options.retry,
      signal,
      metrics,
      logger,
      isLive: (r) => !r.state.revoked,
      block: (batch, error) => {
        const states = new Set(batch.map((r) => r.state));
        for (const s of states) pauses.block(s, error);
        return () => {
          for (const s of states) pauses.unblock(s);
        };
      },
      stillFailing: (batch, error) => {
        for (const r of batch) r.state.lastError = errorInfo(error);
      },
      accepted: (batch, result) => this.#accepted(batch, result),
      // Settled on the side: a record blocked or waiting for the dead-letter topic holds its own partition's
      // commit position, not the rest of the batch (other partitions) nor a request slot.
      undeliverable: (record, error, attempts) => {
        this.#settler.settle(record, error, attempts);
        return Promise.resolve();
      },
    });
  }

  /** Records the sink accepted: their offsets are complete (unless their partition was revoked meanwhile). */
  #accepted(records: ForwardRecord[], result: SinkResult | undefined): void {
    const { partitions, metrics, logger, sink } = this.#o;
    let spans = 0;
    let bytes = 0;
    let count = 0;
    for (const r of records) {
      if (r.state.revoked) continue;
      r.state.ledger.complete(r.offset);
      r.done = true;
      partitions.release(r);
      count++;
      bytes += r.value.length;
      spans += r.spans ?? spansIn(r.value, r.contentType);
    }
    if (count > 0) {
      metrics.records.add(count);
      metrics.bytes.add(bytes);
      metrics.spans.add(spans);
    }
    if (result?.rejectedSpans) {
      metrics.rejectedSpans.add(result.rejectedSpans);
      logger.warn('sink accepted the request but rejected some spans (partial success)', {
        sink: sink.name,
        rejectedSpans: result.rejectedSpans,
        message: result.errorMessage ?? '',
      });
    }
  }

  /** A request or a side settlement ended: release what is done (or revoked), and go on. */
  #settled(records: ForwardRecord[]): void {
    // Records of revoked partitions are never completed here, and must not stay counted as buffered.
    for (const r of records) if (r.done || r.state.revoked) this.#o.partitions.release(r);
    this.pump();
    this.#o.settled();
  }

  /**
   * A delivery that threw (a custom retry policy, logger or meter failing): nothing is lost. The records not
   * yet settled go back to the head of their partitions' queues, and those partitions wait a second.
   */
  #recover(batch: ForwardRecord[], err: unknown): void {
    const byState = new Map<PartitionState, ForwardRecord[]>();
    for (const r of batch) {
      if (r.done || r.state.revoked || r.settling) continue;
      const list = byState.get(r.state) ?? [];
      list.push(r);
      byState.set(r.state, list);
    }
    const error = asSinkError(err);
    for (const [s, records] of byState) {
      s.queue.putBack(records);
      this.#o.pauses.block(s, error);
      setTimeout(() => {
        this.#o.pauses.unblock(s);
        this.pump();
      }, RECOVER_DELAY_MILLIS).unref();
    }
    try {
      this.#o.logger.error('delivery failed unexpectedly; records requeued', { error: String(err) });
    } catch {
      // The logger may be what failed.
    }
  }
}
