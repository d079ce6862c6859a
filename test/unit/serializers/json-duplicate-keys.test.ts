import { findDuplicateKey } from '../../../src/serializers/json-duplicate-keys';

describe('findDuplicateKey', () => {
  it('finds a key repeated in one object, at any depth', () => {
    expect(findDuplicateKey('{"resourceSpans":[],"resourceSpans":[]}')).toEqual({ key: 'resourceSpans', position: 20 });
    const spansTwice = '{"resourceSpans":[{"scopeSpans":[{"spans":[{}],"spans":[{}]}]}]}';
    expect(findDuplicateKey(spansTwice)?.key).toBe('spans');
  });

  it('treats the proto field name and the JSON name as the same field', () => {
    expect(findDuplicateKey('{"resourceSpans":[],"resource_spans":[]}')?.key).toBe('resource_spans');
  });

  it('decodes escapes in keys before comparing', () => {
    expect(findDuplicateKey('{"spans":1,"sp\\u0061ns":2}')?.key).toBe('spans');
  });

  it('accepts equal keys in different objects, and strings that look like keys', () => {
    const text =
      '{"resourceSpans":[{"resource":{"attributes":[{"key":"a","value":{"stringValue":"\\"key\\":"}},' +
      '{"key":"a","value":{}}]}},{"resource":{}}],"x":["spans","spans"]}';
    expect(JSON.parse(text)).toBeDefined();
    expect(findDuplicateKey(text)).toBeUndefined();
  });

  it('handles nesting far deeper than the call stack without recursion', () => {
    const deep = `{"a":${'['.repeat(200_000)}${']'.repeat(200_000)},"b":1}`;
    expect(findDuplicateKey(deep)).toBeUndefined();
    expect(findDuplicateKey(`{"a":${'{"x":'.repeat(50_000)}1${'}'.repeat(50_000)},"a":2}`)?.key).toBe('a');
  });
});
