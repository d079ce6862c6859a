// The plain typed model OTLP trace requests decode to (protobuf and OTLP/JSON alike) and encode from.

/**
 * An attribute value, the decoded form of an OTLP `AnyValue`.
 *
 * @remarks
 * `string_value` → string, `bool_value` → boolean, `int_value` → bigint (always, even when small),
 * `double_value` → number, `bytes_value` → Uint8Array, `array_value` → array, `kvlist_value` → plain object,
 * an empty `AnyValue` (or a `KeyValue` without value) → `null`. Integers are bigints so that an integer and
 * a double stay distinguishable: re-encoding a decoded request gives back the same value types.
 */
export type AttrValue =
  string | boolean | number | bigint | Uint8Array | null | AttrValue[] | { [key: string]: AttrValue };

/** Attributes by key. A key repeated on the wire keeps its last value. */
export type DecodedAttributes = Record<string, AttrValue>;

/** A decoded `ExportTraceServiceRequest`. */
export interface DecodedTraceRequest {
  /** Spans grouped by the resource that produced them. */
  resourceSpans: DecodedResourceSpans[];
}

/** A decoded `ResourceSpans`: the spans of one resource. */
export interface DecodedResourceSpans {
  /** The resource; empty attributes when the message had none. */
  resource: DecodedResource;
  /** Spans grouped by instrumentation scope. */
  scopeSpans: DecodedScopeSpans[];
  /** The schema URL of the resource, `''` when absent. */
  schemaUrl: string;
}

/** A decoded `Resource`. */
export interface DecodedResource {
  /** Resource attributes, e.g. `service.name`. */
  attributes: DecodedAttributes;
  /** Attributes the producer dropped. */
  droppedAttributesCount: number;
}

/** A decoded `ScopeSpans`: the spans of one instrumentation scope. */
export interface DecodedScopeSpans {
  /** The instrumentation scope; empty name and version when the message had none. */
  scope: DecodedScope;
  /** The spans. */
  spans: DecodedSpan[];
  /** The schema URL of the scope, `''` when absent. */
  schemaUrl: string;
}

/** A decoded `InstrumentationScope`. */
export interface DecodedScope {
  /** The scope (tracer) name, `''` when absent. */
  name: string;
  /** The scope version, `''` when absent. */
  version: string;
  /** Scope attributes. */
  attributes: DecodedAttributes;
  /** Attributes the producer dropped. */
  droppedAttributesCount: number;
}

/** A decoded `Span`. */
export interface DecodedSpan {
  /** 32 lowercase hex characters. */
  traceId: string;
  /** 16 lowercase hex characters. */
  spanId: string;
  /** 16 lowercase hex characters, or `''` for a root span. */
  parentSpanId: string;
  /** W3C `tracestate`, `''` when absent. */
  traceState: string;
  /** Bits 0-7: W3C trace flags; bit 8: has-is-remote; bit 9: is-remote (OTLP `SpanFlags`). */
  flags: number;
  /** The span name. */
  name: string;
  /**
   * OTLP `SpanKind`: 0 unspecified, 1 internal, 2 server, 3 client, 4 producer, 5 consumer. Note this is the
   * `@opentelemetry/api` `SpanKind` plus one.
   */
  kind: number;
  /** Start time, nanoseconds since the Unix epoch. */
  startTimeUnixNano: bigint;
  /** End time, nanoseconds since the Unix epoch. */
  endTimeUnixNano: bigint;
  /** Span attributes. */
  attributes: DecodedAttributes;
  /** Attributes the producer dropped. */
  droppedAttributesCount: number;
  /** Span events, in order. */
  events: DecodedEvent[];
  /** Events the producer dropped. */
  droppedEventsCount: number;
  /** Links to other spans. */
  links: DecodedLink[];
  /** Links the producer dropped. */
  droppedLinksCount: number;
  /** The span status; code 0 and `''` when absent. */
  status: DecodedStatus;
}

/** A decoded `Span.Event`. */
export interface DecodedEvent {
  /** When it happened, nanoseconds since the Unix epoch. */
  timeUnixNano: bigint;
  /** The event name. */
  name: string;
  /** Event attributes. */
  attributes: DecodedAttributes;
  /** Attributes the producer dropped. */
  droppedAttributesCount: number;
}

/** A decoded `Span.Link`. */
export interface DecodedLink {
  /** 32 lowercase hex characters. */
  traceId: string;
  /** 16 lowercase hex characters. */
  spanId: string;
  /** W3C `tracestate` of the linked span, `''` when absent. */
  traceState: string;
  /** Link attributes. */
  attributes: DecodedAttributes;
  /** Attributes the producer dropped. */
  droppedAttributesCount: number;
  /** OTLP `SpanFlags` of the linked span context, as in {@link DecodedSpan.flags}. */
  flags: number;
}

/** A decoded `Status`. */
export interface DecodedStatus {
  /** OTLP `StatusCode`: 0 unset, 1 ok, 2 error. */
  code: number;
  /** The status message, `''` when absent. */
  message: string;
}

/** The partial-success part of an OTLP `ExportTraceServiceResponse`. */
export interface DecodedPartialSuccess {
  /** Spans the receiver rejected; 0 when it accepted everything. */
  rejectedSpans: number;
  /** Why, when the receiver said; `''` otherwise. */
  errorMessage: string;
}
