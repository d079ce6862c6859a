import { ProtobufTraceSerializer } from '@opentelemetry/otlp-transformer';

import { OTLP_JSON_CONTENT_TYPE, OTLP_PROTO_CONTENT_TYPE } from '../../../src/serializers/otlp-serializers';
import { looksLikeJson, recordContentType } from '../../../src/serializers/record-content';
import { makeSpans } from '../helpers/spans';

const protobuf = Buffer.from(ProtobufTraceSerializer.serializeRequest(makeSpans({ spansPerTrace: 1 }))!);
const json = Buffer.from('{"resourceSpans":[]}');

describe('looksLikeJson', () => {
  it('tells OTLP/JSON from protobuf by the first byte', () => {
    expect(looksLikeJson(json)).toBe(true);
    expect(looksLikeJson(Buffer.from('\ufeff \t\r{"resourceSpans":[]}'))).toBe(true);
    // 0x0a opens every protobuf request (field 1) and is also a newline; 0x7b after it is a length.
    expect(looksLikeJson(protobuf)).toBe(false);
    expect(looksLikeJson(Buffer.from([0x0a, 0x7b]))).toBe(false);
    expect(looksLikeJson(Buffer.alloc(0))).toBe(false);
    expect(looksLikeJson(null)).toBe(false);
  });

  it('reads a non-breaking space or a byte order mark after a space as not JSON (JSON.parse refuses both)', () => {
    for (const text of ['\u00a0{"resourceSpans":[]}', ' \ufeff{"resourceSpans":[]}']) {
      expect(() => JSON.parse(new TextDecoder().decode(Buffer.from(text))) as unknown).toThrow();
      expect(looksLikeJson(Buffer.from(text))).toBe(false);
    }
  });
});

describe('recordContentType', () => {
  it('reads the header, normalised', () => {
    expect(recordContentType({ 'content-type': 'application/x-protobuf' }, json)).toBe(OTLP_PROTO_CONTENT_TYPE);
    expect(recordContentType({ 'content-type': Buffer.from('Application/Protobuf') }, json)).toBe(
      OTLP_PROTO_CONTENT_TYPE,
    );
    expect(recordContentType({ 'content-type': ['application/json; charset=utf-8'] }, protobuf)).toBe(
      OTLP_JSON_CONTENT_TYPE,
    );
  });

  it('sniffs the value when the header is missing, empty or blank', () => {
    for (const header of [undefined, '', '  ', Buffer.alloc(0), [''], '; charset=utf-8']) {
      const headers = header === undefined ? {} : { 'content-type': header };
      expect(recordContentType(headers, json)).toBe(OTLP_JSON_CONTENT_TYPE);
      expect(recordContentType(headers, protobuf)).toBe(OTLP_PROTO_CONTENT_TYPE);
    }
  });

  it('returns another media type escaped and capped, so it can be named in an error safely', () => {
    const header = Buffer.concat([Buffer.from('text/\u0000\u001b[31m'), Buffer.alloc(500, 0x61)]);
    const type = recordContentType({ 'content-type': header }, protobuf);
    expect(type.startsWith('text/\\x00\\x1b[31m')).toBe(true);
    expect([...type].some((c) => c.charCodeAt(0) < 0x20)).toBe(false);
    expect(type.length).toBeLessThanOrEqual(110);
  });
});
