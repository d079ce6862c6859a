import { freeJaegerPorts, JaegerInstance } from '../../../scripts/stack/stack';
import { uniqueName } from '../harness/names';
import { getTrace, postOtlpProto, waitForTrace } from '../harness/jaeger';
import { encodeOtlpProto, makeTrace, traceIdOf } from '../harness/otlp';

describe('the real Jaeger', () => {
  it('stores a one-span OTLP protobuf request and returns it by trace id', async () => {
    const spans = makeTrace({ serviceName: 'okj-smoke', name: 'smoke-span' });

    expect(await postOtlpProto(encodeOtlpProto(spans))).toBe(200);

    const stored = await waitForTrace(traceIdOf(spans), { spanCount: 1 });
    expect(stored).toHaveLength(1);
    expect(stored[0]?.name).toBe('smoke-span');
    expect(stored[0]?.serviceName).toBe('okj-smoke');
    expect(stored[0]?.spanId).toBe(spans[0]?.spanContext().spanId);
  });

  describe('on Badger storage', () => {
    let jaeger: JaegerInstance;

    beforeAll(async () => {
      jaeger = new JaegerInstance({
        name: uniqueName('jaeger-badger'),
        storage: 'badger',
        ports: await freeJaegerPorts(),
      });
      await jaeger.start();
    });

    afterAll(async () => {
      await jaeger.destroy();
    });

    it('refuses POSTs while stopped, and keeps earlier traces across a restart', async () => {
      const before = makeTrace({ spanCount: 3 });
      expect(await postOtlpProto(encodeOtlpProto(before), jaeger.otlpHttpUrl)).toBe(200);
      await waitForTrace(traceIdOf(before), { spanCount: 3, queryUrl: jaeger.queryUrl });

      await jaeger.stop();
      const during = makeTrace();
      await expect(postOtlpProto(encodeOtlpProto(during), jaeger.otlpHttpUrl)).rejects.toThrow();

      await jaeger.start();
      const after = makeTrace();
      expect(await postOtlpProto(encodeOtlpProto(after), jaeger.otlpHttpUrl)).toBe(200);
      await waitForTrace(traceIdOf(after), { queryUrl: jaeger.queryUrl });

      const kept = await getTrace(traceIdOf(before), jaeger.queryUrl);
      expect(new Set(kept.map((s) => s.spanId))).toEqual(new Set(before.map((s) => s.spanContext().spanId)));
    });
  });
});
