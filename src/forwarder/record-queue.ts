// A partition's queue of fetched records: an array consumed from a head index (shift() on a long array is
// O(n) per call), with records that must be tried again put back in front.

/**
 * Puts `records` back at the head of `queue` (in their order, before everything not yet taken) and returns
 * the new head index, 0.
 *
 * @remarks
 * Not `splice(head, 0, ...records)`: spreading a batch of a hundred thousand records into call arguments
 * overflows the call stack, and the records would be neither requeued nor completed.
 */
export function putBack<T>(queue: T[], head: number, records: readonly T[]): number {
  const rest = queue.slice(head);
  queue.length = 0;
  for (const r of records) queue.push(r);
  for (const r of rest) queue.push(r);
  return 0;
}
