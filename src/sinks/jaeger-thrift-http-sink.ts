// Jaeger's own ingest path: Thrift batches POSTed to a collector's `/api/traces` (Jaeger v1 collectors, and
// Jaeger v2 or an OTel Collector with the jaeger receiver's `thrift_http` protocol). Records are decoded and
// converted the way the OTel Collector's Jaeger translator (`pkg/translator/jaeger`, ProtoFromTraces) does,
// so that spans sent this way read back from Jaeger as close as the Jaeger model allows to spans sent as OTLP.
import { SinkError } from '../errors/errors';
import { abortError } from '../retry/sleep';
import type {
  AttrValue,
  DecodedAttributes,
  DecodedEvent,
  DecodedLink,
  DecodedResource,
  DecodedScope,
  DecodedScopeSpans,
  DecodedSpan,
  DecodedTraceRequest,
} from '../serializers/otlp/model';
import { HttpTransport, httpEndpoint, responseError } from './http-transport';
import { JAEGER_THRIFT_HTTP_DEFAULT_URL, resolveJaegerThriftHttpSinkOptions } from './jaeger-thrift-http-sink-options';
import type { JaegerThriftHttpSinkOptions } from './jaeger-thrift-http-sink-options';
import { ConversionPacer, convertRecord, decodeRecord, recordEncoding } from './record-conversion';
import type { Sink, SinkRecord, SinkResult, SinkSendOptions } from './sink';
import {
  JAEGER_BATCH_OVERHEAD_BYTES,
  JaegerSpanRefType,
  JaegerTagType,
  ThriftBinaryWriter,
  assembleJaegerBatch,
  encodeJaegerProcess,
  writeJaegerSpan,
} from './thrift-binary';
import type { JaegerBatch, JaegerLog, JaegerProcess, JaegerSpan, JaegerSpanRef, JaegerTag } from './thrift-binary';

const THRIFT_CONTENT_TYPE = 'application/x-thrift';
/** The OTel SDK's fallback service name when a resource has none. */
const UNKNOWN_SERVICE = 'unknown_service';
const SERVICE_NAME = 'service.name';
/** Jaeger span flag bit 0. */
const SAMPLED = 1;
/** The `span.kind` tag value of each OTLP `SpanKind` (0, unspecified, has none). */
const SPAN_KIND_TAGS: Readonly<Record<number, string>> = {
  1: 'internal',
  2: 'server',
  3: 'client',
  4: 'producer',
  5: 'consumer',
};
const STATUS_OK = 1;
const STATUS_ERROR = 2;
/** The link attribute through which OpenTracing-era producers say a link is a CHILD_OF reference. */
const REF_TYPE_ATTRIBUTE = 'opentracing.ref_type';
/** The log field holding an event's name. */
const EVENT_FIELD = 'event';

/**
 * A {@link Sink} that POSTs spans as Jaeger Thrift batches to a collector's `/api/traces`, by default
 * `http://localhost:14268/api/traces`.
 *
 * @remarks
 * Each record (OTLP protobuf or JSON) is decoded and converted to Jaeger's Thrift model: one `Batch` per
 * distinct resource, so all spans of one service in a `send()` go in one request. The conversion mirrors
 * the OTel Collector's Jaeger translator; see `docs/jaeger-thrift-mapping.md` for the field-by-field table
 * and what the Jaeger model cannot hold (scope attributes, link attributes, dropped counts, ...). Records
 * are decoded one at a time and their spans encoded at once, so a send holds one decoded record at most;
 * a record that decodes to more than 250,000 messages (spans, events, links, attributes, ...; a 1 MiB record
 * of ordinary spans holds about 56,000), or one per 4 bytes of a larger record, is refused.
 *
 * A `send()` encodes every request body first, then makes one POST per body, one after the other, and
 * resolves when every one was answered 2xx. A batch whose encoding exceeds `maxRequestBytes` is split into
 * several POSTs. A record that cannot be decoded, converted or encoded, is too large to decode, or holds a
 * span that alone exceeds `maxRequestBytes`, rejects with a permanent {@link SinkError} naming the record,
 * before any request. HTTP outcomes are classified as by the OTLP/HTTP sink: 429, 408, 401, 403, 5xx,
 * timeouts and connection failures are retriable, other 4xx (Jaeger answers 400 to a body it cannot read)
 * permanent; 3xx, 404, 405 and 415 say the URL is wrong and are retriable unless `endpointErrors` is
 * `'permanent'`. When a later request fails, earlier ones were already accepted and are sent again on
 * retry: spans may be stored twice. Connections are kept alive (at most 8) and never traced.
 *
 * Delivery: Jaeger v2 (and an OTel Collector) answer 202 once their pipeline consumed the batch, which,
 * without a batch processor or sending queue, is after storage accepted it. A Jaeger v1 collector answers
 * 202 once the spans are in its in-memory queue, before storage: a collector crash can then lose spans whose
 * offsets were already committed.
 *
 * @param options - Endpoint, headers, timeout and request size limit.
 * @param fieldPrefix - The config path that {@link ConfigError}s name, e.g. `forwarder.sink.url`.
 * @throws {@link ConfigError} when an option is invalid.
 *
 * @example
 * ```ts
 * const sink = jaegerThriftHttpSink({ url: 'http://jaeger-collector:14268/api/traces' });
 * const forwarder = new KafkaToJaegerForwarder({ kafka: { brokers }, forwarder: { sink } });
 * ```
 */
export function jaegerThriftHttpSink(options?: JaegerThriftHttpSinkOptions, fieldPrefix = 'forwarder.sink'): Sink {
  const o = resolveJaegerThriftHttpSinkOptions(options, fieldPrefix);
  const endpoint = httpEndpoint(o, JAEGER_THRIFT_HTTP_DEFAULT_URL, 'Jaeger Thrift/HTTP');
  return new JaegerThriftHttpSink(new HttpTransport(endpoint), o.maxRequestBytes);
}

class JaegerThriftHttpSink implements Sink {
  readonly name = 'jaeger-thrift-http';
  readonly #transport: HttpTransport;
  readonly #maxRequestBytes: number;
  #closed = false;

  constructor(transport: HttpTransport, maxRequestBytes: number) {
    this.#transport = transport;
    this.#maxRequestBytes = maxRequestBytes;
  }

  async send(records: readonly SinkRecord[], { signal }: SinkSendOptions): Promise<SinkResult> {
    const endpoint = this.#transport.endpoint;
    if (this.#closed) {
      throw new SinkError(`jaeger-thrift-http sink for ${endpoint.displayUrl} is closed`, { retriable: true });
    }
    if (signal.aborted) throw abortError(signal);
    // Every body before the first POST: a record that cannot be sent must fail the send before any part of
    // it was accepted, or each retry of the batch would store the accepted parts again.
    const encoder = new ThriftBatchEncoder();
    const pacer = new ConversionPacer(signal);
    for (let i = 0; i < records.length; i++) {
      await pacer.pace();
      const record = records[i] as SinkRecord;
      const request = decodeRecord(record, recordEncoding(record, i, records.length), i, records.length);
      convertRecord(i, records.length, () => encoder.add(request, i));
    }
    for (const body of encoder.bodies(this.#maxRequestBytes, records.length)) {
      const response = await this.#transport.post(body, { contentType: THRIFT_CONTENT_TYPE }, signal);
      const error = responseError(response, endpoint);
      if (error !== undefined) throw error;
    }
    return {};
  }

  close(): Promise<void> {
    this.#closed = true;
    this.#transport.close();
    return Promise.resolve();
  }
}

/** The spans of one process in a send, Thrift-encoded one after the other. */
interface ProcessSpans {
  readonly process: Buffer;
  readonly spans: ThriftBinaryWriter;
  /** Where each span's encoding ends in `spans`. */
  readonly ends: number[];
  /** The index of the record each span came from. */
  readonly records: number[];
}

/**
 * Converts records to Thrift as they come, grouped by process, keeping only the encoded spans: a decoded
 * record (a few hundred bytes of heap per span, event or attribute) is garbage once added, so a send never
 * holds more than one record decoded.
 */
class ThriftBatchEncoder {
  readonly #byProcess = new Map<string, ProcessSpans>();

  add(request: DecodedTraceRequest, recordIndex: number): void {
    for (const { process, key, spans } of jaegerResources(request)) {
      let group = this.#byProcess.get(key);
      if (group === undefined) {
        group = { process: encodeJaegerProcess(process), spans: new ThriftBinaryWriter(), ends: [], records: [] };
        this.#byProcess.set(key, group);
      }
      for (const span of spans) {
        writeJaegerSpan(group.spans, span);
        group.ends.push(group.spans.length);
        group.records.push(recordIndex);
      }
    }
  }

  /**
   * The request bodies: one batch per process, cut into as few bodies of at most `maxBytes` as hold its spans
   * in order. A span too large for a body of its own rejects permanently, naming its record.
   */
  bodies(maxBytes: number, recordCount: number): Buffer[] {
    const bodies: Buffer[] = [];
    for (const { process, spans, ends, records } of this.#byProcess.values()) {
      const encoded = spans.finish();
      const overhead = JAEGER_BATCH_OVERHEAD_BYTES + process.length;
      let first = 0;
      let start = 0;
      for (let i = 0; i < ends.length; i++) {
        const spanStart = i === 0 ? 0 : (ends[i - 1] as number);
        const spanEnd = ends[i] as number;
        if (overhead + spanEnd - spanStart > maxBytes) {
          throw new SinkError(
            `record ${(records[i] as number) + 1} of ${recordCount} holds a span of ${spanEnd - spanStart} bytes ` +
              `in Thrift, a request of ${overhead + spanEnd - spanStart} bytes with its process: more than ` +
              `maxRequestBytes (${maxBytes}), which no collector accepts however often it is sent`,
            { retriable: false },
          );
        }
        if (overhead + spanEnd - start > maxBytes) {
          bodies.push(assembleJaegerBatch(process, i - first, encoded.subarray(start, spanStart)));
          first = i;
          start = spanStart;
        }
      }
      if (ends.length > first) bodies.push(assembleJaegerBatch(process, ends.length - first, encoded.subarray(start)));
    }
    return bodies;
  }
}

// ---------------------------------------------------------------------------------------------------------
// OTLP → Jaeger Thrift model

/**
 * Converts decoded OTLP requests to Jaeger batches: one per distinct process (service name and resource
 * tags), holding the spans of every resource that converts to that process, in order of appearance.
 * Resources without spans give no batch.
 *
 * @internal
 *
 * @example
 * ```ts
 * const batches = toJaegerBatches([decodeTraceRequest(record.value, record.contentType)]);
 * ```
 */
export function toJaegerBatches(requests: readonly DecodedTraceRequest[]): JaegerBatch[] {
  const byProcess = new Map<string, JaegerBatch>();
  for (const request of requests) {
    for (const { process, key, spans } of jaegerResources(request)) {
      let batch = byProcess.get(key);
      if (batch === undefined) {
        batch = { process, spans: [] };
        byProcess.set(key, batch);
      }
      for (const span of spans) batch.spans.push(span);
    }
  }
  return [...byProcess.values()];
}

/** A resource of a request, converted: its process, a key equal for equal processes, and its spans. */
interface JaegerResource {
  readonly process: JaegerProcess;
  readonly key: string;
  /** Converted as they are iterated, so that the caller need not hold them all. */
  readonly spans: Iterable<JaegerSpan>;
}

/** The resources of `request` that hold spans. Resources without spans give none. */
function* jaegerResources(request: DecodedTraceRequest): Generator<JaegerResource> {
  for (const rs of request.resourceSpans) {
    if (!rs.scopeSpans.some((ss) => ss.spans.length > 0)) continue;
    const process = toJaegerProcess(rs.resource);
    // Keyed by the encoded process: equal bytes are exactly what Jaeger would see as the same process.
    yield { process, key: encodeJaegerProcess(process).toString('latin1'), spans: jaegerSpans(rs.scopeSpans) };
  }
}

function* jaegerSpans(scopeSpans: readonly DecodedScopeSpans[]): Generator<JaegerSpan> {
  for (const ss of scopeSpans) for (const span of ss.spans) yield toJaegerSpan(span, ss.scope);
}

function toJaegerProcess(resource: DecodedResource): JaegerProcess {
  const name = resource.attributes[SERVICE_NAME];
  const serviceName = typeof name === 'string' && name !== '' ? name : UNKNOWN_SERVICE;
  const tags: JaegerTag[] = [];
  for (const [key, value] of Object.entries(resource.attributes)) {
    if (key !== SERVICE_NAME) tags.push(toTag(key, value));
  }
  return tags.length === 0 ? { serviceName } : { serviceName, tags };
}

function toJaegerSpan(span: DecodedSpan, scope: DecodedScope): JaegerSpan {
  const traceIdHigh = hexToI64(span.traceId.slice(0, 16));
  const traceIdLow = hexToI64(span.traceId.slice(16));
  const parentSpanId = span.parentSpanId === '' ? 0n : hexToI64(span.parentSpanId);
  const startTime = span.startTimeUnixNano / 1000n;
  // From the truncated end rather than the nanosecond difference, so start + duration is the end in µs.
  const endTime = span.endTimeUnixNano / 1000n;
  const out: JaegerSpan = {
    traceIdLow,
    traceIdHigh,
    spanId: hexToI64(span.spanId),
    parentSpanId,
    operationName: span.name,
    // OTLP `flags` is 0 when the producer did not fill it in (before OTLP 1.1); an exported span was sampled.
    flags: span.flags === 0 ? SAMPLED : span.flags & SAMPLED,
    startTime,
    duration: endTime > startTime ? endTime - startTime : 0n,
  };
  const references = toReferences(span, traceIdLow, traceIdHigh, parentSpanId);
  if (references.length > 0) out.references = references;
  const tags = spanTags(span, scope);
  if (tags.length > 0) out.tags = tags;
  if (span.events.length > 0) out.logs = span.events.map(toLog);
  return out;
}

/** The parent as the first CHILD_OF reference (backends look there), then the links. */
function toReferences(span: DecodedSpan, traceIdLow: bigint, traceIdHigh: bigint, parent: bigint): JaegerSpanRef[] {
  const refs: JaegerSpanRef[] = [];
  const parentRef: JaegerSpanRef = { refType: JaegerSpanRefType.CHILD_OF, traceIdLow, traceIdHigh, spanId: parent };
  if (parent !== 0n) refs.push(parentRef);
  for (const link of span.links) {
    const ref: JaegerSpanRef = {
      refType: linkRefType(link),
      traceIdLow: hexToI64(link.traceId.slice(16)),
      traceIdHigh: hexToI64(link.traceId.slice(0, 16)),
      spanId: hexToI64(link.spanId),
    };
    // A link to the parent says what kind of reference the parent is, rather than adding a second one.
    if (parent !== 0n && ref.traceIdLow === traceIdLow && ref.traceIdHigh === traceIdHigh && ref.spanId === parent) {
      parentRef.refType = ref.refType;
      continue;
    }
    refs.push(ref);
  }
  return refs;
}

function linkRefType(link: DecodedLink): JaegerSpanRef['refType'] {
  return link.attributes[REF_TYPE_ATTRIBUTE] === 'child_of'
    ? JaegerSpanRefType.CHILD_OF
    : JaegerSpanRefType.FOLLOWS_FROM;
}

/** Scope, attributes, then the tags standing for kind, status and trace state, in the translator's order. */
function spanTags(span: DecodedSpan, scope: DecodedScope): JaegerTag[] {
  const tags: JaegerTag[] = [];
  if (scope.name !== '') tags.push(stringTag('otel.scope.name', scope.name));
  if (scope.version !== '') tags.push(stringTag('otel.scope.version', scope.version));
  appendTags(tags, span.attributes);
  const kind = SPAN_KIND_TAGS[span.kind];
  if (kind !== undefined) tags.push(stringTag('span.kind', kind));
  if (span.status.code === STATUS_ERROR) {
    tags.push(stringTag('otel.status_code', 'ERROR'));
    tags.push({ key: 'error', vType: JaegerTagType.BOOL, vBool: true });
  } else if (span.status.code === STATUS_OK) {
    tags.push(stringTag('otel.status_code', 'OK'));
  }
  if (span.status.message !== '') tags.push(stringTag('otel.status_description', span.status.message));
  if (span.traceState !== '') tags.push(stringTag('w3c.tracestate', span.traceState));
  return tags;
}

function toLog(event: DecodedEvent): JaegerLog {
  const fields: JaegerTag[] = [];
  // An `event` attribute already names the event for Jaeger; a second field of that key would be ambiguous.
  if (event.name !== '' && !Object.hasOwn(event.attributes, EVENT_FIELD)) {
    fields.push(stringTag(EVENT_FIELD, event.name));
  }
  appendTags(fields, event.attributes);
  return { timestamp: event.timeUnixNano / 1000n, fields };
}

function appendTags(tags: JaegerTag[], attributes: DecodedAttributes): void {
  for (const [key, value] of Object.entries(attributes)) tags.push(toTag(key, value));
}

function stringTag(key: string, value: string): JaegerTag {
  return { key, vType: JaegerTagType.STRING, vStr: value };
}

function toTag(key: string, value: AttrValue): JaegerTag {
  switch (typeof value) {
    case 'string':
      return stringTag(key, value);
    case 'boolean':
      return { key, vType: JaegerTagType.BOOL, vBool: value };
    case 'bigint':
      return { key, vType: JaegerTagType.LONG, vLong: value };
    case 'number':
      return { key, vType: JaegerTagType.DOUBLE, vDouble: value };
    default:
      // An empty AnyValue has no Jaeger type; the translator leaves the tag's zero value, an empty string.
      if (value === null) return stringTag(key, '');
      if (value instanceof Uint8Array) return { key, vType: JaegerTagType.BINARY, vBinary: value };
      return stringTag(key, toJson(value));
  }
}

/**
 * An array or kvlist value as JSON, as the translator writes it (Go's encoding/json of the raw value): map
 * keys sorted, bytes as base64, integers exact. JSON has no NaN or infinities: those become strings.
 */
function toJson(value: AttrValue): string {
  if (value === null) return 'null';
  switch (typeof value) {
    case 'string':
      return JSON.stringify(value);
    case 'boolean':
    case 'bigint':
      return String(value);
    case 'number':
      return Number.isFinite(value) ? JSON.stringify(value) : JSON.stringify(String(value));
    default:
      if (value instanceof Uint8Array) return JSON.stringify(Buffer.from(value).toString('base64'));
      if (Array.isArray(value)) return `[${value.map(toJson).join(',')}]`;
      return `{${Object.keys(value)
        .sort()
        .map((key) => `${JSON.stringify(key)}:${toJson(value[key] ?? null)}`)
        .join(',')}}`;
  }
}

/** 16 hex digits as the signed i64 with the same bits. */
function hexToI64(hex: string): bigint {
  return BigInt.asIntN(64, BigInt(`0x${hex}`));
}
