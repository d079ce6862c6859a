/**
 * The binding's asynchronous calls not yet answered, so that a disconnect can wait for them: the binding runs
 * some of them (seek, committed, a metadata request's topic handle) outside its connection lock, and a
 * disconnect meanwhile frees the client under them.
 */
export class InFlightCalls {
  readonly #calls = new Set<Promise<void>>();

  /** Tracks `call` until it settles; returns it unchanged. */
  track<T>(call: Promise<T>): Promise<T> {
    const answered = call.then(
      () => undefined,
      () => undefined,
    );
    this.#calls.add(answered);
    void answered.then(() => this.#calls.delete(answered));
    return call;
  }

  /** Resolves once every call tracked so far has answered (each is bounded by its own timeout). */
  async settled(): Promise<void> {
    await Promise.all(this.#calls);
  }
}
