// listeners[].reusePort (SO_REUSEPORT) on both edge engines: two stacks share one address and
// either keeps serving when the other stops; without it the second bind is refused.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { startStack } from './helpers/stack.ts';

const get = async (port: number): Promise<string> => (await fetch(`http://127.0.0.1:${port}/`, { headers: { connection: 'close' } })).text();

for (const engine of ['node', 'portico'] as const) describe(`${engine} engine`, () => {
  it('reusePort: two stacks bind one port; the second serves alone after the first stops', { skip: process.platform !== 'linux' && 'SO_REUSEPORT load balancing is Linux-only in node' }, async () => {
    const one = await startStack({ listeners: [{ host: '127.0.0.1', port: 0, reusePort: true, engine }], routes: [{ respond: { body: 'one' } }] });
    const port = one.stack.addresses()[0].port;
    const two = await startStack({ listeners: [{ host: '127.0.0.1', port, reusePort: true, engine }], routes: [{ respond: { body: 'two' } }] });
    try {
      assert.equal(two.stack.addresses()[0].port, port);
      assert.ok(['one', 'two'].includes(await get(port)));
      await one.close();
      assert.equal(await get(port), 'two');
    } finally {
      await one.close();
      await two.close();
    }
  });

  it('without reusePort a second bind of the same port fails with EADDRINUSE', async () => {
    const one = await startStack({ listeners: [{ host: '127.0.0.1', port: 0, engine }], routes: [{ respond: { body: 'one' } }] });
    try {
      const port = one.stack.addresses()[0].port;
      await assert.rejects(startStack({ listeners: [{ host: '127.0.0.1', port, engine }], routes: [{ respond: { body: 'two' } }] }), /EADDRINUSE/);
    } finally {
      await one.close();
    }
  });
});
