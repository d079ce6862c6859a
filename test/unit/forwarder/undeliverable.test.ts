import { OtelKafkaJaegerError, SinkError } from '../../../src/errors/errors';
import type { DeadLetterSource, DeadLetterWriter } from '../../../src/forwarder/dead-letter';
import type { ForwarderMetrics } from '../../../src/forwarder/forwarder-metrics';
import { settleUndeliverable } from '../../../src/forwarder/undeliverable';
import type { UndeliverableContext } from '../../../src/forwarder/undeliverable';
import { silentLogger } from './fixtures';

interface Rec {
  offset: number;
}

const refused = new SinkError('400 bad request', { retriable: false, httpStatus: 400 });

function source(r: Rec): DeadLetterSource {
  return {
    topic: 't',
    partition: 0,
    offset: r.offset,
    timestamp: '1',
    key: null,
    value: Buffer.from('v'),
    headers: {},
  };
}

/** A context that writes down what happened; `writes` are the dead-letter writer's answers, failures first. */
function context(
  mode: 'drop' | 'block' | 'dead-letter',
  writer: { failures?: number; written?: boolean } = {},
): { ctx: UndeliverableContext<Rec>; events: string[]; dropped: number[] } {
  const events: string[] = [];
  const dropped: number[] = [];
  const deadLetters = {
    write: (
      src: DeadLetterSource,
      error: OtelKafkaJaegerError,
      attempts: number,
      _signal: AbortSignal,
      onFailure: (failure: OtelKafkaJaegerError) => void,
    ): Promise<boolean> => {
      events.push(`write ${src.offset} ${error.code} ${attempts}`);
      for (let i = 0; i < (writer.failures ?? 0); i++)
        onFailure(new OtelKafkaJaegerError('dlq down', { code: 'KAFKA_UNAVAILABLE' }));
      return Promise.resolve(writer.written ?? true);
    },
  } as unknown as DeadLetterWriter;
  const metrics = { dropped: { add: (n: number) => dropped.push(n) } } as unknown as ForwarderMetrics;
  const ctx: UndeliverableContext<Rec> = {
    mode,
    logger: silentLogger,
    metrics,
    deadLetters,
    deadLetterTopic: 't.dlq',
    signal: new AbortController().signal,
    source,
    block: (r, error, attempts) => {
      events.push(`block ${r.offset} ${error.code} ${attempts}`);
      return Promise.resolve();
    },
    settled: (r, how, error) => events.push(`settled ${r.offset} ${how} ${error.code}`),
    deadLetterFailing: (r, failure) => events.push(`failing ${r.offset} ${failure.code}`),
    deadLetterDone: (r) => events.push(`done ${r.offset}`),
  };
  return { ctx, events, dropped };
}

describe('settleUndeliverable', () => {
  it("'drop': settles the record as dropped and counts it, writing nothing", async () => {
    const { ctx, events, dropped } = context('drop');
    await settleUndeliverable({ offset: 7 }, refused, 1, ctx);
    expect(events).toEqual(['settled 7 dropped SINK_FAILED']);
    expect(dropped).toEqual([1]);
  });

  it("'block': hands the record to the caller's block, and does not settle it", async () => {
    const { ctx, events, dropped } = context('block');
    await settleUndeliverable({ offset: 8 }, refused, 3, ctx);
    expect(events).toEqual(['block 8 SINK_FAILED 3']);
    expect(dropped).toEqual([]);
  });

  it("'dead-letter': settles the record once the dead letter is written", async () => {
    const { ctx, events } = context('dead-letter');
    await settleUndeliverable({ offset: 9 }, refused, 2, ctx);
    expect(events).toEqual(['write 9 SINK_FAILED 2', 'done 9', 'settled 9 dead-lettered SINK_FAILED']);
  });

  it("'dead-letter': reports every failure of the writer, and settles only what was written", async () => {
    const failing = context('dead-letter', { failures: 2, written: true });
    await settleUndeliverable({ offset: 1 }, refused, 1, failing.ctx);
    expect(failing.events).toEqual([
      'write 1 SINK_FAILED 1',
      'failing 1 KAFKA_UNAVAILABLE',
      'failing 1 KAFKA_UNAVAILABLE',
      'done 1',
      'settled 1 dead-lettered SINK_FAILED',
    ]);

    const aborted = context('dead-letter', { written: false });
    await settleUndeliverable({ offset: 2 }, refused, 1, aborted.ctx);
    expect(aborted.events).toEqual(['write 2 SINK_FAILED 1', 'done 2']);
  });
});
