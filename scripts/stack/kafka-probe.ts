// A Kafka Metadata request (v4, the oldest version Kafka 4 still serves) over a raw socket: the readiness
// probe needs no client library and gives a yes/no quickly, whatever state the broker is in.
import { connect } from 'node:net';

const METADATA_API_KEY = 3;
const METADATA_VERSION = 4;

export interface BrokerMetadata {
  brokers: { nodeId: number; host: string; port: number }[];
  controllerId: number;
  clusterId: string | null;
}

export function fetchMetadata(host: string, port: number, timeoutMillis = 2_000): Promise<BrokerMetadata> {
  return new Promise((resolve, reject) => {
    const clientId = Buffer.from('okj-stack-probe');
    const body = Buffer.alloc(2 + 2 + 4 + 2 + clientId.length + 4 + 1);
    let o = 0;
    o = body.writeInt16BE(METADATA_API_KEY, o);
    o = body.writeInt16BE(METADATA_VERSION, o);
    o = body.writeInt32BE(1, o); // correlation id
    o = body.writeInt16BE(clientId.length, o);
    o += clientId.copy(body, o);
    o = body.writeInt32BE(0, o); // no topics: brokers and controller only
    body.writeInt8(0, o); // allow_auto_topic_creation = false
    const size = Buffer.alloc(4);
    size.writeInt32BE(body.length);

    const socket = connect({ host, port });
    const chunks: Buffer[] = [];
    const timer = setTimeout(
      () => socket.destroy(new Error(`no Metadata response within ${timeoutMillis} ms`)),
      timeoutMillis,
    );
    socket.on('connect', () => socket.write(Buffer.concat([size, body])));
    socket.on('data', (chunk: Buffer) => {
      chunks.push(chunk);
      const buf = Buffer.concat(chunks);
      if (buf.length < 4 || buf.length < 4 + buf.readInt32BE(0)) return;
      clearTimeout(timer);
      socket.destroy();
      try {
        resolve(parseMetadata(buf.subarray(4)));
      } catch (err) {
        reject(err instanceof Error ? err : new Error(String(err)));
      }
    });
    socket.on('error', (err) => {
      clearTimeout(timer);
      reject(err);
    });
    socket.on('close', () => {
      clearTimeout(timer);
      reject(new Error('connection closed before a Metadata response'));
    });
  });
}

function parseMetadata(buf: Buffer): BrokerMetadata {
  let o = 4; // correlation id
  o += 4; // throttle_time_ms
  const count = buf.readInt32BE(o);
  o += 4;
  const readString = (): string | null => {
    const len = buf.readInt16BE(o);
    o += 2;
    if (len < 0) return null;
    const s = buf.toString('utf8', o, o + len);
    o += len;
    return s;
  };
  const brokers: BrokerMetadata['brokers'] = [];
  for (let i = 0; i < count; i++) {
    const nodeId = buf.readInt32BE(o);
    o += 4;
    const host = readString() ?? '';
    const port = buf.readInt32BE(o);
    o += 4;
    readString(); // rack
    brokers.push({ nodeId, host, port });
  }
  const clusterId = readString();
  const controllerId = buf.readInt32BE(o);
  return { brokers, controllerId, clusterId };
}
