import { groupByTrace } from '../../../src/exporter/group-by-trace';
import { makeSpans } from '../helpers/spans';

describe('groupByTrace', () => {
  it('puts every span under its own trace id, each exactly once', () => {
    const spans = makeSpans({ traces: 4, spansPerTrace: 3 });
    const shuffled = [...spans].sort((a, b) => a.spanContext().spanId.localeCompare(b.spanContext().spanId));

    const groups = groupByTrace(shuffled);

    expect(groups.size).toBe(4);
    for (const [traceId, group] of groups) {
      expect(group).toHaveLength(3);
      for (const span of group) expect(span.spanContext().traceId).toBe(traceId);
    }
    expect([...groups.values()].flat()).toHaveLength(spans.length);
  });

  it('keeps the order of spans within a trace', () => {
    const spans = makeSpans({ traces: 1, spansPerTrace: 5 });
    expect([...groupByTrace(spans).values()][0]).toEqual(spans);
  });
});
