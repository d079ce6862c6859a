// The meter used when the config has no `meterProvider`: the global MeterProvider's, as OpenTelemetry's
// instrumentations do. @opentelemetry/api has no proxy for metrics (unlike traces): until an application
// registers a provider, `metrics.getMeterProvider()` returns a no-op one, and instruments taken from it stay
// no-ops for ever. Applications often register theirs after creating the exporter (a NodeSDK is given the
// exporter, then started), so this meter binds late: each instrument is created on the global provider's meter
// at its first recording once a real provider is there, and observable instruments (which record nothing
// themselves) are bound by a once-a-second check. Until then a recording costs one look-up of the global
// provider and an identity comparison; once bound, one field read.
import { createNoopMeter, metrics } from '@opentelemetry/api';
import type {
  Attributes,
  BatchObservableCallback,
  BatchObservableResult,
  Context,
  Counter,
  Gauge,
  Histogram,
  Meter,
  MeterProvider,
  MetricOptions,
  Observable,
  ObservableCallback,
  ObservableCounter,
  ObservableGauge,
  ObservableUpDownCounter,
  UpDownCounter,
} from '@opentelemetry/api';

/** How often meters that are not bound yet look for a global provider (for their observable instruments). */
const POLL_MILLIS = 1_000;

/**
 * A meter on the global MeterProvider that also serves a provider registered after it was created. It binds
 * to the first real provider it sees and keeps it.
 */
export function globalMeter(name: string): Meter {
  return new GlobalMeter(name);
}

class GlobalMeter implements Meter {
  readonly #name: string;
  #meter: Meter | undefined;
  /** The last global provider found to be a no-op one: asked again only once the global changes. */
  #noopProvider: MeterProvider | undefined;
  #observables: LateObservable[] = [];
  #batches: { callback: BatchObservableCallback; observables: Observable[] }[] = [];

  constructor(name: string) {
    this.#name = name;
    if (!this.bind()) poller.add(this);
  }

  /** The global provider's meter once there is a real provider; undefined until then. */
  bind(): Meter | undefined {
    if (this.#meter) return this.#meter;
    const provider = metrics.getMeterProvider();
    if (provider === this.#noopProvider) return undefined;
    const meter = provider.getMeter(this.#name);
    if (meter === createNoopMeter()) {
      this.#noopProvider = provider;
      return undefined;
    }
    this.#meter = meter;
    for (const o of this.#observables) o.bind(meter);
    for (const { callback, observables } of this.#batches) addBatch(meter, callback, observables);
    this.#observables = [];
    this.#batches = [];
    return meter;
  }

  createCounter<A extends Attributes>(name: string, options?: MetricOptions): Counter<A> {
    return new LateCounter<A>(this, (m) => m.createCounter<A>(name, options));
  }

  createUpDownCounter<A extends Attributes>(name: string, options?: MetricOptions): UpDownCounter<A> {
    return new LateCounter<A>(this, (m) => m.createUpDownCounter<A>(name, options));
  }

  createHistogram<A extends Attributes>(name: string, options?: MetricOptions): Histogram<A> {
    return new LateRecorder<A>(this, (m) => m.createHistogram<A>(name, options));
  }

  createGauge<A extends Attributes>(name: string, options?: MetricOptions): Gauge<A> {
    return new LateRecorder<A>(this, (m) => m.createGauge<A>(name, options));
  }

  createObservableGauge<A extends Attributes>(name: string, options?: MetricOptions): ObservableGauge<A> {
    return this.#observable((m) => m.createObservableGauge(name, options));
  }

  createObservableCounter<A extends Attributes>(name: string, options?: MetricOptions): ObservableCounter<A> {
    return this.#observable((m) => m.createObservableCounter(name, options));
  }

  createObservableUpDownCounter<A extends Attributes>(
    name: string,
    options?: MetricOptions,
  ): ObservableUpDownCounter<A> {
    return this.#observable((m) => m.createObservableUpDownCounter(name, options));
  }

  addBatchObservableCallback<A extends Attributes>(
    callback: BatchObservableCallback<A>,
    observables: Observable<A>[],
  ): void {
    const entry = { callback: callback as BatchObservableCallback, observables: observables as Observable[] };
    if (this.#meter) addBatch(this.#meter, entry.callback, entry.observables);
    else this.#batches.push(entry);
  }

  removeBatchObservableCallback<A extends Attributes>(
    callback: BatchObservableCallback<A>,
    observables: Observable<A>[],
  ): void {
    if (this.#meter) {
      const wrapped = batchWrappers.get(callback);
      if (wrapped) this.#meter.removeBatchObservableCallback(wrapped, observables.map(delegateOf));
    } else {
      this.#batches = this.#batches.filter((b) => b.callback !== (callback as BatchObservableCallback));
    }
  }

  #observable<A extends Attributes>(create: (m: Meter) => Observable): Observable<A> {
    const observable = new LateObservable(create);
    if (this.#meter) observable.bind(this.#meter);
    else this.#observables.push(observable);
    return observable;
  }
}

/** A synchronous instrument created on the real meter at its first recording after the meter bound. */
class LateInstrument<T> {
  readonly #owner: GlobalMeter;
  readonly #create: (m: Meter) => T;
  #delegate: T | undefined;

  constructor(owner: GlobalMeter, create: (m: Meter) => T) {
    this.#owner = owner;
    this.#create = create;
  }

  protected target(): T | undefined {
    if (this.#delegate !== undefined) return this.#delegate;
    const meter = this.#owner.bind();
    if (meter) this.#delegate = this.#create(meter);
    return this.#delegate;
  }
}

class LateCounter<A extends Attributes>
  extends LateInstrument<Counter<A> | UpDownCounter<A>>
  implements Counter<A>, UpDownCounter<A>
{
  add(value: number, attributes?: A, context?: Context): void {
    this.target()?.add(value, attributes, context);
  }
}

class LateRecorder<A extends Attributes>
  extends LateInstrument<Histogram<A> | Gauge<A>>
  implements Histogram<A>, Gauge<A>
{
  record(value: number, attributes?: A, context?: Context): void {
    this.target()?.record(value, attributes, context);
  }
}

/** An observable instrument: its callbacks are kept until the meter binds, then handed to the real one. */
class LateObservable implements Observable {
  readonly #create: (m: Meter) => Observable;
  #callbacks = new Set<ObservableCallback>();
  delegate: Observable | undefined;

  constructor(create: (m: Meter) => Observable) {
    this.#create = create;
  }

  bind(meter: Meter): void {
    this.delegate = this.#create(meter);
    for (const callback of this.#callbacks) this.delegate.addCallback(callback);
    this.#callbacks.clear();
  }

  addCallback(callback: ObservableCallback): void {
    if (this.delegate) this.delegate.addCallback(callback);
    else this.#callbacks.add(callback);
  }

  removeCallback(callback: ObservableCallback): void {
    if (this.delegate) this.delegate.removeCallback(callback);
    else this.#callbacks.delete(callback);
  }
}

function delegateOf(o: Observable): Observable {
  return o instanceof LateObservable && o.delegate ? o.delegate : o;
}

/** The callback given to the real meter for each batch callback, so that it can be removed again. */
const batchWrappers = new WeakMap<BatchObservableCallback, BatchObservableCallback>();

// The SDK's batch result accepts only its own instruments: map ours to what they stand for.
function addBatch(meter: Meter, callback: BatchObservableCallback, observables: Observable[]): void {
  const wrapped: BatchObservableCallback = (result) =>
    callback({
      observe: (o, value, attributes) => result.observe(delegateOf(o), value, attributes),
    } satisfies BatchObservableResult);
  batchWrappers.set(callback, wrapped);
  meter.addBatchObservableCallback(wrapped, observables.map(delegateOf));
}

/**
 * Looks for a global provider once a second on behalf of the meters not bound yet. It holds them weakly (an
 * exporter dropped by the application must not live on here) and its timer never keeps the process alive.
 */
const poller = new (class {
  readonly #pending = new Set<WeakRef<GlobalMeter>>();
  #timer: NodeJS.Timeout | undefined;

  add(meter: GlobalMeter): void {
    this.#pending.add(new WeakRef(meter));
    if (this.#timer) return;
    this.#timer = setInterval(() => this.#poll(), POLL_MILLIS);
    this.#timer.unref();
  }

  #poll(): void {
    for (const ref of this.#pending) {
      const meter = ref.deref();
      if (!meter || meter.bind()) this.#pending.delete(ref);
    }
    if (this.#pending.size === 0) {
      clearInterval(this.#timer);
      this.#timer = undefined;
    }
  }
})();
