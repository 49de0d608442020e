// `Expect: 100-continue` (RFC 9110 §10.1.1) over raw sockets: the client holds its body until the
// 100 arrives; a route that refuses the request (413 on its declared length, an upstream that is
// down) answers without a 100, so the body is never sent; other expectations get 417; an HTTP/1.0
// request's expectation is ignored.
import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import net from 'node:net';
import { startStack, type TestStack } from './helpers/stack.ts';
import { closedPort, scriptedServer, waitFor, type Scripted } from './helpers/servers.ts';

/** A raw client: what it has read so far, waits on what it reads, knows when the server closed. */
class RawClient {
  readonly socket: net.Socket;
  text = '';
  closed = false;
  private waiters: (() => void)[] = [];

  constructor(port: number) {
    this.socket = net.connect(port, '127.0.0.1');
    this.socket.setEncoding('latin1');
    this.socket.on('data', (c: string) => {
      this.text += c;
      this.wake();
    });
    this.socket.on('error', () => {});
    this.socket.on('close', () => {
      this.closed = true;
      this.wake();
    });
  }

  /** Resolves once `test` holds on what was read (or the connection closed); bounded by a deadline. */
  until(test: (text: string) => boolean, what: string): Promise<void> {
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`timed out waiting for ${what}; got ${JSON.stringify(this.text)}`)), 10_000);
      const check = (): void => {
        if (test(this.text) || this.closed) {
          clearTimeout(timer);
          resolve();
        } else this.waiters.push(check);
      };
      check();
    });
  }

  private wake(): void {
    const w = this.waiters;
    this.waiters = [];
    for (const f of w) f();
  }
}

const finalStatus = (t: string) => /HTTP\/1\.1 [2-5]\d\d /.test(t);
const CONTINUE = 'HTTP/1.1 100 Continue\r\n\r\n';

for (const engine of ['node', 'portico'] as const) {
  describe(`${engine} engine: Expect: 100-continue`, () => {
    let upstream: Scripted;
    let s: TestStack;
    let port: number;
    const seen: string[] = [];

    before(async () => {
      upstream = await scriptedServer((req, res) => {
        let body = '';
        req.setEncoding('latin1').on('data', (c: string) => (body += c)).on('end', () => {
          seen.push(`${req.method} ${req.url} ${JSON.stringify(body)} expect=${req.headers.expect ?? '-'}`);
          res.end('upstream');
        });
      });
      s = await startStack({
        listeners: [{ host: '127.0.0.1', port: 0, engine }],
        pools: { web: { servers: [{ url: upstream.url }] }, down: { client: 'undici', servers: [{ url: `http://127.0.0.1:${await closedPort()}` }], retries: 0 } },
        routes: [{ path: '/down', upstream: 'down' }, { upstream: 'web', maxBodySize: 10 }],
      });
      port = s.stack.addresses()[0].port;
    });
    after(async () => {
      await s.close();
      await upstream.close();
    });

    it('an allowed body: 100 arrives before the client sends it, then the response; Expect is not forwarded', async () => {
      const before = seen.length;
      const c = new RawClient(port);
      c.socket.write('POST /up HTTP/1.1\r\nHost: x\r\nExpect: 100-continue\r\nContent-Length: 4\r\n\r\n');
      await c.until((t) => t.includes(CONTINUE) || finalStatus(t), '100 Continue');
      assert.ok(c.text.startsWith(CONTINUE), `100 first, got ${JSON.stringify(c.text)}`);
      assert.equal(seen.length, before, 'nothing forwarded before the body came');
      c.socket.write('body');
      await c.until(finalStatus, 'the response');
      assert.match(c.text, /HTTP\/1\.1 200 /);
      await waitFor(() => seen.length > before, 'the upstream request');
      assert.deepEqual(seen.slice(before), ['POST /up "body" expect=-']);
      c.socket.destroy();
    });

    it('a chunked body: 100, then the chunks go through', async () => {
      const before = seen.length;
      const c = new RawClient(port);
      c.socket.write('POST /up HTTP/1.1\r\nHost: x\r\nExpect: 100-continue\r\nTransfer-Encoding: chunked\r\n\r\n');
      await c.until((t) => t.includes(CONTINUE) || finalStatus(t), '100 Continue');
      assert.ok(c.text.startsWith(CONTINUE), c.text);
      c.socket.write('3\r\nabc\r\n0\r\n\r\n');
      await c.until(finalStatus, 'the response');
      assert.match(c.text, /HTTP\/1\.1 200 /);
      await waitFor(() => seen.length > before, 'the upstream request');
      assert.deepEqual(seen.slice(before), ['POST /up "abc" expect=-']);
      c.socket.destroy();
    });

    it('a declared length over the route\'s maxBodySize: 413 without a 100, connection closed, nothing forwarded', async () => {
      const before = seen.length;
      const c = new RawClient(port);
      c.socket.write('POST /up HTTP/1.1\r\nHost: x\r\nExpect: 100-continue\r\nContent-Length: 100\r\n\r\n');
      await c.until((t) => t.includes(CONTINUE) || finalStatus(t), 'an answer');
      assert.match(c.text, /^HTTP\/1\.1 413 /, 'the final status first, no 100');
      await c.until(() => false, 'the close');
      assert.ok(c.closed);
      assert.doesNotMatch(c.text, /100 Continue/);
      assert.deepEqual(seen.slice(before), []);
    });

    // undici reads the body once connected; the own client (pools.*.client: 'portico') starts
    // reading as it hands the request to a connection, so there the 100 comes right before forwarding.
    it('an upstream that is down: 502 without a 100 (the body was never read)', async () => {
      const c = new RawClient(port);
      c.socket.write('POST /down HTTP/1.1\r\nHost: x\r\nExpect: 100-continue\r\nContent-Length: 4\r\n\r\n');
      await c.until((t) => t.includes(CONTINUE) || finalStatus(t), 'an answer');
      assert.match(c.text, /^HTTP\/1\.1 502 /);
      await c.until(() => false, 'the close');
      assert.doesNotMatch(c.text, /100 Continue/);
    });

    it('any other expectation: 417 with the error code, nothing forwarded', async () => {
      const before = seen.length;
      const c = new RawClient(port);
      c.socket.write('POST /up HTTP/1.1\r\nHost: x\r\nExpect: something-else\r\nContent-Length: 4\r\n\r\nbody');
      await c.until(() => false, 'the close');
      assert.match(c.text, /^HTTP\/1\.1 417 /);
      assert.match(c.text, /x-portico-error: EXPECTATION_FAILED/i);
      assert.match(c.text, /x-request-id: [\w-]+/i);
      assert.deepEqual(seen.slice(before), []);
    });

    it('HTTP/1.0 with Expect: 100-continue: ignored (no 1xx to an HTTP/1.0 client), the body is read', async () => {
      const before = seen.length;
      const c = new RawClient(port);
      c.socket.write('POST /up HTTP/1.0\r\nHost: x\r\nExpect: 100-continue\r\nContent-Length: 4\r\n\r\nbody');
      await c.until(() => false, 'the close');
      assert.match(c.text, /^HTTP\/1\.1 200 /);
      assert.doesNotMatch(c.text, /100 Continue/);
      assert.deepEqual(seen.slice(before), ['POST /up "body" expect=-']);
    });
  });
}
