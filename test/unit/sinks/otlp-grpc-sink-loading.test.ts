// @grpc/grpc-js is loaded by the first gRPC sink, not by importing the package: a traced service that only
// exports spans never pays for it. Checked in a child process, whose module cache starts empty.
import { execFile } from 'node:child_process';
import path from 'node:path';
import { promisify } from 'node:util';

const root = path.resolve(__dirname, '../../..');
const tsx = path.join(root, 'node_modules/.bin/tsx');

const script = `
const loaded = () => Object.keys(require.cache).some((file) => file.includes('@grpc/grpc-js'));
const { otlpGrpcSink } = require(${JSON.stringify(path.join(root, 'src/index.ts'))});
const afterImport = loaded();
const sink = otlpGrpcSink({ url: 'http://127.0.0.1:4317' });
sink.close().then(() => console.log(JSON.stringify({ afterImport, afterSink: loaded() })));
`;

describe('loading @grpc/grpc-js', () => {
  it('happens when a gRPC sink is created, not when the package is imported', async () => {
    const { stdout } = await promisify(execFile)(tsx, ['-e', script], { cwd: root, timeout: 60_000 });
    expect(JSON.parse(stdout)).toEqual({ afterImport: false, afterSink: true });
  });
});
