// The idle keep-alive clients of the `idle-memory` scenario: N connections, each sends one
// keep-alive GET, reads the 12-byte answer, then stays open and silent. Opened in batches so
// the listen backlog never overflows (a dropped SYN would cost a 1 s retransmit).
// Prints `OPEN <n>` once all have answered; on stdin, `count` prints `ALIVE <n>` (connections the
// server has not closed) and `exit` closes them all and exits.
//   node bench/idle-memory/idle-client.ts --port P --connections N
import net from 'node:net';
import { createInterface } from 'node:readline';
import { parseArgs } from 'node:util';

const { values } = parseArgs({ options: { port: { type: 'string' }, connections: { type: 'string', default: '10000' } } });
const port = Number(values.port);
const total = Number(values.connections);
const BATCH = 256;
const REQUEST = 'GET / HTTP/1.1\r\nHost: localhost\r\n\r\n';
const sockets: net.Socket[] = [];
let closed = 0;

/** One connection that has had its answer; rejects on an error or an early close. */
function open(): Promise<void> {
  return new Promise((resolve, reject) => {
    const s = net.connect(port, '127.0.0.1');
    let text = '';
    let answered = false;
    s.setEncoding('latin1');
    s.on('connect', () => s.write(REQUEST));
    s.on('data', (d: string) => {
      text += d;
      if (!answered && text.startsWith('HTTP/1.1 200') && text.endsWith('hello world\n')) {
        answered = true;
        resolve();
      }
    });
    s.on('error', (err) => {
      if (!answered) reject(err);
    });
    s.on('close', () => {
      if (answered) closed++;
      else reject(new Error(`closed before the answer: ${JSON.stringify(text.slice(0, 80))}`));
    });
    sockets.push(s);
  });
}

for (let opened = 0; opened < total; opened += BATCH) {
  await Promise.all(Array.from({ length: Math.min(BATCH, total - opened) }, open));
}
process.stdout.write(`OPEN ${sockets.length}\n`);
createInterface({ input: process.stdin }).on('line', (line) => {
  if (line === 'count') process.stdout.write(`ALIVE ${sockets.length - closed}\n`);
  if (line === 'exit') {
    for (const s of sockets) s.destroy();
    process.exit(0);
  }
});
