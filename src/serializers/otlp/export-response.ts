// The partial-success part of OTLP trace export responses, for the OTLP sinks.
// Not otlp-transformer's deserializeResponse: its protobuf reader reads int64 as unsigned (a negative count turns
// huge) and its JSON one answers invalid JSON with an empty response; protobufjs's schema decode does the reading.
import { withMessage } from './field-reader';
import { guarded, Invalid } from './invalid';
import { jsonReader, parseJson } from './json-reader';
import type { DecodedPartialSuccess } from './model';
import { ExportTraceServiceResponse } from '../otlp-schema';
import { protoReader } from './proto-reader';
import { isJson, isObj } from './values';

/**
 * Decodes the body of an OTLP/HTTP trace export response (its partial-success part).
 *
 * @param bytes - The response body; 0 bytes means full success.
 * @param contentType - The response's `content-type`; one containing `json` selects OTLP/JSON.
 * @throws {@link SerializationError} when the body is not an `ExportTraceServiceResponse`.
 *
 * @example
 * ```ts
 * const { rejectedSpans, errorMessage } = decodeExportTraceServiceResponse(body, res.headers['content-type']);
 * ```
 */
export function decodeExportTraceServiceResponse(bytes: Uint8Array, contentType?: string): DecodedPartialSuccess {
  if (bytes.length === 0) return { rejectedSpans: 0, errorMessage: '' };
  const json = isJson(contentType);
  const prefix = `not an OTLP${json ? '/JSON' : ''} ExportTraceServiceResponse: `;
  const parsed = json ? parseJson(bytes, prefix) : undefined;
  return guarded(prefix, () => {
    const r = json ? jsonReader : protoReader;
    const message: unknown = json ? parsed : ExportTraceServiceResponse.decode(bytes);
    if (!isObj(message)) throw new Invalid('expected an object');
    return withMessage(r, message, 'partialSuccess', { rejectedSpans: 0, errorMessage: '' }, (partial) => ({
      rejectedSpans: Number(r.int64(partial, 'rejectedSpans')),
      errorMessage: r.string(partial, 'errorMessage'),
    }));
  });
}
