// The span shape every contender creates (STACK.md's reference shape): traces of one root and four children,
// ten string attributes of twenty characters per span, one resource with service.name.
import { randomBytes } from 'node:crypto';

import { ROOT_CONTEXT, SpanKind, trace } from '@opentelemetry/api';
import type { Attributes, Tracer } from '@opentelemetry/api';

export const SPANS_PER_TRACE = 5;
export const ATTRIBUTES_PER_SPAN = 10;
export const ATTRIBUTE_VALUE_CHARS = 20;
export const SERVICE_NAME = 'okj-bench';

const CHILD_NAMES = ['load cart', 'price items', 'reserve stock', 'charge card'];
const ATTRIBUTE_KEYS = Array.from({ length: ATTRIBUTES_PER_SPAN }, (_, i) => `bench.attr.${i}`);

/**
 * Random attribute values, drawn once: values differ from span to span (so compression sees realistic,
 * not trivially repetitive, payloads) without charging random generation to the span-creation path.
 */
function valuePool(size: number): string[] {
  const chars = ATTRIBUTE_VALUE_CHARS;
  const hex = randomBytes((size * chars) / 2 + 1).toString('hex');
  return Array.from({ length: size }, (_, i) => hex.slice(i * chars, (i + 1) * chars));
}

/** Creates whole traces of the benchmark's shape, ending every span so the span processor gets it. */
export class TraceFactory {
  readonly #tracer: Tracer;
  readonly #pool = valuePool(4_096);
  #next = 0;

  constructor(tracer: Tracer) {
    this.#tracer = tracer;
  }

  #attributes(): Attributes {
    const attributes: Attributes = {};
    for (const key of ATTRIBUTE_KEYS) {
      attributes[key] = this.#pool[this.#next] ?? '';
      this.#next = (this.#next + 1) % this.#pool.length;
    }
    return attributes;
  }

  /** Creates and ends one trace of `spansPerTrace` spans (a root and its children); returns that count. */
  createTrace(spansPerTrace = SPANS_PER_TRACE): number {
    const root = this.#tracer.startSpan('GET /checkout', {
      kind: SpanKind.SERVER,
      attributes: this.#attributes(),
    });
    const parent = trace.setSpan(ROOT_CONTEXT, root);
    for (let i = 1; i < spansPerTrace; i++) {
      const name = CHILD_NAMES[(i - 1) % CHILD_NAMES.length] ?? 'child';
      this.#tracer.startSpan(name, { kind: SpanKind.INTERNAL, attributes: this.#attributes() }, parent).end();
    }
    root.end();
    return spansPerTrace;
  }
}
