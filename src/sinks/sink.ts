/**
 * One Kafka record as a sink receives it: the value is an encoded OTLP `ExportTraceServiceRequest`.
 *
 * @example
 * ```ts
 * const record: SinkRecord = { value: bytes, contentType: 'application/x-protobuf' };
 * ```
 */
export interface SinkRecord {
  /** The record value: an OTLP `ExportTraceServiceRequest` in the encoding `contentType` names. */
  readonly value: Buffer;
  /** `application/x-protobuf` or `application/json`; every record of one batch has the same. */
  readonly contentType: string;
}

/** What a sink reports for an accepted request. */
export interface SinkResult {
  /**
   * Spans the sink accepted the request but rejected for good (OTLP partial success); they are counted
   * and logged, not retried, since sending them again cannot succeed.
   */
  readonly rejectedSpans?: number;
  /** The sink's message about rejected spans, if any. */
  readonly errorMessage?: string;
}

/** Options of one {@link Sink.send} call. */
export interface SinkSendOptions {
  /** Aborted when the forwarder stops; a sink should abandon the request then. */
  readonly signal: AbortSignal;
}

/**
 * Where the forwarder delivers spans: Jaeger's OTLP/HTTP endpoint by default, or your own implementation.
 *
 * @remarks
 * Contract: resolve only when the data is durably accepted (for Jaeger: stored; run it without a batch
 * processor), because the forwarder commits Kafka offsets after that. Reject with a {@link SinkError}:
 * `retriable: true` for conditions that may pass (connection refused or reset, timeouts, HTTP 429 and 5xx;
 * `retryAfterMillis` when the server asked for a delay), `retriable: false` for data the sink can never
 * accept (HTTP 400 and other 4xx, undecodable data). Any other rejection is treated as retriable.
 *
 * @example
 * ```ts
 * const sink: Sink = {
 *   name: 'stdout',
 *   async send(records) {
 *     for (const r of records) process.stdout.write(`${r.value.length} bytes\n`);
 *   },
 *   async close() {},
 * };
 * ```
 */
export interface Sink {
  /** A short name for logs and metrics, e.g. `otlp-http`. */
  readonly name: string;
  /** Sends one batch of records as one request (or as few as the protocol allows). */
  send(records: readonly SinkRecord[], options: SinkSendOptions): Promise<SinkResult | void>;
  /** Releases connections. Called once, when the forwarder stops. */
  close(): Promise<void>;
}
