// The conversion rules every built-in sink applies: a failure while converting a record is that record's
// permanent fault, and a record that would decode to too many objects is refused before it is decoded.
import { SinkError } from '../../../src/errors/errors';
import { decodeTraceRequest } from '../../../src/serializers/otlp/decode';
import {
  MAX_DECODED_OBJECTS,
  convertRecord,
  decodeRecord,
  maxDecodedObjects,
} from '../../../src/sinks/record-conversion';
import type { SinkRecord } from '../../../src/sinks/sink';
import {
  emptyEventsRecord,
  emptyJsonObjectsRecord,
  emptyResourceSpansRecord,
  ordinarySpansRecord,
} from './hostile-records';

function thrown(fn: () => unknown): unknown {
  try {
    fn();
  } catch (err) {
    return err;
  }
  throw new Error('expected a throw');
}

describe('convertRecord', () => {
  it('turns whatever the conversion throws into a permanent SinkError naming the record and why', () => {
    const err = thrown(() =>
      convertRecord(2, 5, () => {
        throw new RangeError('Maximum call stack size exceeded');
      }),
    );

    expect(err).toBeInstanceOf(SinkError);
    expect((err as SinkError).retriable).toBe(false);
    expect((err as SinkError).message).toBe('record 3 of 5 cannot be sent: Maximum call stack size exceeded');
    expect((err as SinkError).cause).toBeInstanceOf(RangeError);
  });

  it('passes a SinkError through as it is', () => {
    const original = new SinkError('record 1 of 1 has content type x', { retriable: false });

    expect(
      thrown(() =>
        convertRecord(0, 1, () => {
          throw original;
        }),
      ),
    ).toBe(original);
  });
});

describe('decodeRecord: the cap on decoded objects', () => {
  /** Decodes as a sink does, with the time it took and the heap it left behind (no GC forced in between). */
  function decodeMeasured(record: SinkRecord): { error: unknown; millis: number; heapMiB: number } {
    const heapBefore = process.memoryUsage().heapUsed;
    const started = performance.now();
    const error = thrown(() => decodeRecord(record, record.contentType.includes('json') ? 'json' : 'protobuf', 0, 1));
    return {
      error,
      millis: performance.now() - started,
      heapMiB: (process.memoryUsage().heapUsed - heapBefore) / 2 ** 20,
    };
  }

  it.each([
    ['1 MiB of empty resource spans (0a 00 pairs)', emptyResourceSpansRecord, 524_288],
    ['one span with 512k empty events', () => emptyEventsRecord(512 * 1024), 524_291],
    ['OTLP/JSON of 300,000 empty resourceSpans objects', () => emptyJsonObjectsRecord(300_000), 300_001],
  ])('refuses %s quickly, permanently, naming the count and the cap', (_what, make, count) => {
    const record = make();

    const { error, millis, heapMiB } = decodeMeasured(record);

    expect(error).toBeInstanceOf(SinkError);
    expect((error as SinkError).retriable).toBe(false);
    expect((error as SinkError).message).toBe(
      `record 1 of 1 cannot be sent: too large to decode: ${count} messages (spans, events, links, attributes, ...), ` +
        `more than the ${maxDecodedObjects(record.value.length)} one record may hold`,
    );
    expect(millis).toBeLessThan(1_000);
    // Decoded, these take 100-150 MiB of heap; counted on the wire, next to nothing.
    expect(heapMiB).toBeLessThan(48);
  });

  it('lets a 1 MiB record of ordinary spans through, far below the cap', () => {
    const record = ordinarySpansRecord(1024 * 1024);
    const spans = decodeTraceRequest(record.value).resourceSpans[0]?.scopeSpans[0]?.spans.length ?? 0;

    expect(record.value.length).toBeGreaterThan(900 * 1024);
    expect(() => decodeRecord(record, 'protobuf', 0, 1)).not.toThrow();
    // Each span is 22 messages: itself, 10 attributes and their values: well under a quarter of the cap.
    expect(spans * 22).toBeLessThan(MAX_DECODED_OBJECTS / 4);
  });

  it('lets a 6 MiB record of ordinary spans through (a topic with a raised max.message.bytes)', () => {
    const record = ordinarySpansRecord(6 * 1024 * 1024);
    const spans = decodeRecord(record, 'protobuf', 0, 1).resourceSpans[0]?.scopeSpans[0]?.spans.length ?? 0;
    // Over the flat cap, under the cap for its size.
    expect(spans * 22).toBeGreaterThan(MAX_DECODED_OBJECTS);
    expect(spans * 22).toBeLessThan(maxDecodedObjects(record.value.length));
  });
});
