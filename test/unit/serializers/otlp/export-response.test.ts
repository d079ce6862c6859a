import { SerializationError } from '../../../../src/errors/errors';
import { decodeExportTraceServiceResponse } from '../../../../src/serializers/otlp/export-response';
import { ExportTraceServiceResponse } from '../../../../src/serializers/otlp-schema';

describe('decodeExportTraceServiceResponse', () => {
  it('reads an empty body as full success', () => {
    expect(decodeExportTraceServiceResponse(new Uint8Array(0))).toEqual({ rejectedSpans: 0, errorMessage: '' });
  });

  it('reads a protobuf partial success', () => {
    // partial_success (1) { rejected_spans (1) = 3, error_message (2) = "bad" }, written by hand.
    const handmade = Uint8Array.of(0x0a, 0x07, 0x08, 0x03, 0x12, 0x03, 0x62, 0x61, 0x64);
    const viaSchema = ExportTraceServiceResponse.encode({
      partialSuccess: { rejectedSpans: 12, errorMessage: 'too old' },
    }).finish();

    expect(decodeExportTraceServiceResponse(handmade)).toEqual({ rejectedSpans: 3, errorMessage: 'bad' });
    expect(decodeExportTraceServiceResponse(viaSchema, 'application/x-protobuf')).toEqual({
      rejectedSpans: 12,
      errorMessage: 'too old',
    });
    expect(decodeExportTraceServiceResponse(Uint8Array.of(0x0a, 0x00))).toEqual({ rejectedSpans: 0, errorMessage: '' });
  });

  it('reads an OTLP/JSON partial success', () => {
    const body = Buffer.from('{"partialSuccess":{"rejectedSpans":"3","errorMessage":"bad"}}');

    expect(decodeExportTraceServiceResponse(body, 'application/json')).toEqual({
      rejectedSpans: 3,
      errorMessage: 'bad',
    });
    expect(decodeExportTraceServiceResponse(Buffer.from('{}'), 'application/json')).toEqual({
      rejectedSpans: 0,
      errorMessage: '',
    });
  });

  it('throws SerializationError on garbage', () => {
    expect(() => decodeExportTraceServiceResponse(Uint8Array.of(0x0a, 0x09, 0x08))).toThrow(SerializationError);
    expect(() => decodeExportTraceServiceResponse(Uint8Array.of(0xff))).toThrow(
      /^not an OTLP ExportTraceServiceResponse: /,
    );
    expect(() => decodeExportTraceServiceResponse(Buffer.from('nope'), 'application/json')).toThrow(
      /^not an OTLP\/JSON ExportTraceServiceResponse: invalid JSON/,
    );
  });
});
