// Framing check for prototype B, so its speed is not bought by loosening framing: malformed
// requests must get the right status and a closed connection, malformed upstream responses a
// 502. Prototype A (node:http / llhttp client side, undici / llhttp upstream side) answers the
// same inputs as a reference; only B's answers are asserted.
//
//   node bench/io-model/framing-check.ts        (exit code 1 if any B answer is wrong)
import net from 'node:net';
import {
  PROTOTYPE_A, PROTOTYPE_B, type Contender, freePort, request, startNodeServer, stopAll, table,
} from './harness.ts';

interface Answer {
  statuses: number[];
  closed: boolean;
}

/**
 * Writes raw bytes on a fresh connection (all at once, or `dribble` bytes per write to exercise
 * resumable parsing); collects until the server closes or stays quiet 300 ms.
 */
function exchange(port: number, bytes: string, dribble = 0): Promise<Answer> {
  return new Promise((resolve) => {
    const socket = net.connect({ port, host: '127.0.0.1', noDelay: true });
    let text = '';
    let done = false;
    const finish = (closed: boolean) => {
      if (done) return;
      done = true;
      clearTimeout(timer);
      socket.destroy();
      const statuses = [...text.matchAll(/HTTP\/1\.[01] (\d{3})/g)].map((m) => Number(m[1]));
      resolve({ statuses, closed });
    };
    let timer = setTimeout(() => finish(false), 300);
    socket.on('connect', async () => {
      if (dribble === 0) return void socket.write(bytes, 'latin1');
      for (let i = 0; i < bytes.length && !done; i += dribble) {
        socket.write(bytes.slice(i, i + dribble), 'latin1');
        await new Promise((r) => setTimeout(r, 1));
      }
    });
    socket.on('data', (d: Buffer) => {
      text += d.toString('latin1');
      clearTimeout(timer);
      timer = setTimeout(() => finish(false), 300);
    });
    socket.on('end', () => finish(true));
    socket.on('close', () => finish(true));
    socket.on('error', () => finish(true));
  });
}

const H = 'Host: example.test\r\n';
const get = (extra = '') => `GET / HTTP/1.1\r\n${H}${extra}\r\n`;

/** [name, bytes, expected statuses, expected closed, dribble] — the RFC section is why. */
const CLIENT_CASES: [string, string, number[], boolean, number?][] = [
  ['valid GET', get(), [200], false],
  ['GET + POST, 3 bytes per write', get('User-Agent: t\r\n') + `POST / HTTP/1.1\r\n${H}Transfer-Encoding: chunked\r\n\r\n3\r\nabc\r\n0\r\n\r\n`, [200, 200], false, 3],
  ['valid POST, Content-Length', `POST / HTTP/1.1\r\n${H}Content-Length: 5\r\n\r\nhello`, [200], false],
  ['valid POST, chunked + ext + trailer', `POST / HTTP/1.1\r\n${H}Transfer-Encoding: chunked\r\n\r\n5;a=b\r\nhello\r\n0\r\nX-T: 1\r\n\r\n`, [200], false],
  ['two pipelined GETs (§9.3.2)', get() + get(), [200, 200], false],
  ['CL + TE (§6.1, §6.3 r3)', `POST / HTTP/1.1\r\n${H}Content-Length: 5\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n`, [400], true],
  ['two different CLs (§6.3 r5)', `POST / HTTP/1.1\r\n${H}Content-Length: 5\r\nContent-Length: 6\r\n\r\nhello!`, [400], true],
  ['two identical CLs', `POST / HTTP/1.1\r\n${H}Content-Length: 5\r\nContent-Length: 5\r\n\r\nhello`, [400], true],
  ['CL "+5" (9110 §8.6)', `POST / HTTP/1.1\r\n${H}Content-Length: +5\r\n\r\nhello`, [400], true],
  ['bare LF line ends (§2.2)', `GET / HTTP/1.1\n${H.replace('\r', '')}\n`, [400], true],
  ['bare CR in a value (§2.2)', get('X-A: a\rb\r\n'), [400], true],
  ['obs-fold (§5.2)', get('X-A: a\r\n  b\r\n'), [400], true],
  ['space before colon (§5.1)', get('X-A : a\r\n'), [400], true],
  ['bad char in field name', get('X(A): a\r\n'), [400], true],
  ['bad char in method', `G(T / HTTP/1.1\r\n${H}\r\n`, [400], true],
  ['NUL in a value (9110 §5.5)', get('X-A: a\x00b\r\n'), [400], true],
  ['TE "chunked, gzip" (§6.3 r4)', `POST / HTTP/1.1\r\n${H}Transfer-Encoding: chunked, gzip\r\n\r\n0\r\n\r\n`, [400], true],
  ['TE "gzip, chunked" (§6.1)', `POST / HTTP/1.1\r\n${H}Transfer-Encoding: gzip, chunked\r\n\r\n0\r\n\r\n`, [501], true],
  ['TE in HTTP/1.0 (§6.1)', `POST / HTTP/1.0\r\n${H}Transfer-Encoding: chunked\r\n\r\n0\r\n\r\n`, [400], true],
  ['no Host in HTTP/1.1 (§3.2)', 'GET / HTTP/1.1\r\n\r\n', [400], true],
  ['two Host fields (§3.2)', get('Host: other.test\r\n'), [400], true],
  ['20 KiB header (431)', get(`X-Big: ${'a'.repeat(20 * 1024)}\r\n`), [431], true],
  ['10 KiB request line (414)', `GET /${'a'.repeat(10 * 1024)} HTTP/1.1\r\n${H}\r\n`, [414], true],
  ['bad chunk size (§7.1)', `POST / HTTP/1.1\r\n${H}Transfer-Encoding: chunked\r\n\r\nzz\r\nhello\r\n0\r\n\r\n`, [400], true],
  ['chunk longer than its size', `POST / HTTP/1.1\r\n${H}Transfer-Encoding: chunked\r\n\r\n2\r\nhello\r\n0\r\n\r\n`, [400], true],
  ['HTTP/2.0 request line (505)', `GET / HTTP/2.0\r\n${H}\r\n`, [505], true],
  ['fragment in target', `GET /a#b HTTP/1.1\r\n${H}\r\n`, [400], true],
];

/** The fake upstream's answers, by path. Bad ones close the connection afterwards. */
const UPSTREAM: Record<string, string> = {
  ok: 'HTTP/1.1 200 OK\r\nContent-Length: 12\r\n\r\nhello world\n',
  chunked: 'HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhello\r\n7\r\n world\n\r\n0\r\n\r\n',
  'close-delimited': 'HTTP/1.1 200 OK\r\nConnection: close\r\n\r\nhello world\n',
  'extra-bytes': 'HTTP/1.1 200 OK\r\nContent-Length: 12\r\n\r\nhello world\nSURPRISE',
  'dup-cl': 'HTTP/1.1 200 OK\r\nContent-Length: 12\r\nContent-Length: 12\r\n\r\nhello world\n',
  'conflict-cl': 'HTTP/1.1 200 OK\r\nContent-Length: 12\r\nContent-Length: 13\r\n\r\nhello world\n',
  'te-cl': 'HTTP/1.1 200 OK\r\nContent-Length: 12\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n',
  'te-gzip': 'HTTP/1.1 200 OK\r\nTransfer-Encoding: gzip\r\n\r\nhello world\n',
  'bare-lf': 'HTTP/1.1 200 OK\nContent-Length: 12\n\nhello world\n',
  'obs-fold': 'HTTP/1.1 200 OK\r\nX-A: a\r\n b\r\nContent-Length: 12\r\n\r\nhello world\n',
  'space-colon': 'HTTP/1.1 200 OK\r\nContent-Length : 12\r\n\r\nhello world\n',
  'ctl-value': 'HTTP/1.1 200 OK\r\nX-A: a\x01b\r\nContent-Length: 12\r\n\r\nhello world\n',
  'bad-status': 'HTTP/1.1 2x0 OK\r\nContent-Length: 12\r\n\r\nhello world\n',
  'bad-chunk': 'HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\nhello world\n\r\n0\r\n\r\n',
  'big-head': `HTTP/1.1 200 OK\r\nX-Big: ${'a'.repeat(20 * 1024)}\r\nContent-Length: 12\r\n\r\nhello world\n`,
};
const UPSTREAM_EXPECT: Record<string, number> = { ok: 200, chunked: 200, 'close-delimited': 200, 'extra-bytes': 200 };

/** Bodies larger than a socket read, so both directions go through the streaming paths. */
const BIG = 1024 * 1024;
const bigBody = (): string => 'x'.repeat(BIG);
function bigResponse(chunked: boolean): string {
  if (!chunked) return `HTTP/1.1 200 OK\r\nContent-Length: ${BIG}\r\n\r\n${bigBody()}`;
  let out = 'HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n';
  for (let i = 0; i < BIG; i += 16384) out += `4000\r\n${'x'.repeat(16384)}\r\n`;
  return out + '0\r\n\r\n';
}

/** Length of a request body in `rest` once complete (CL, or chunked ending in 0 CRLF CRLF), else -1. */
function bodyLength(head: string, rest: string): [length: number, used: number] {
  const cl = /\r\ncontent-length: *(\d+)/i.exec(head);
  if (cl) return rest.length >= Number(cl[1]) ? [Number(cl[1]), Number(cl[1])] : [-1, 0];
  if (!/\r\ntransfer-encoding: *chunked/i.test(head)) return [0, 0];
  let pos = 0;
  let total = 0;
  for (;;) {
    const nl = rest.indexOf('\r\n', pos);
    if (nl === -1) return [-1, 0];
    const size = parseInt(rest.slice(pos, nl), 16);
    if (size === 0) return rest.startsWith('\r\n', nl + 2) ? [total, nl + 4] : [-1, 0];
    if (rest.length < nl + 2 + size + 2) return [-1, 0];
    total += size;
    pos = nl + 2 + size + 2;
  }
}

function startFakeUpstream(port: number): Promise<net.Server> {
  const server = net.createServer((socket) => {
    let buf = '';
    socket.on('error', () => {});
    socket.on('data', (d: Buffer) => {
      buf += d.toString('latin1');
      for (let end = buf.indexOf('\r\n\r\n'); end !== -1; end = buf.indexOf('\r\n\r\n')) {
        const head = buf.slice(0, end);
        const [length, used] = bodyLength(head, buf.slice(end + 4));
        if (length === -1) return; // wait for the whole request body
        buf = buf.slice(end + 4 + used);
        const name = /^\w+ \/up\/([\w-]+)/.exec(head)?.[1] ?? 'ok';
        if (name === 'echo') {
          const text = `received ${length}`;
          socket.write(`HTTP/1.1 200 OK\r\nContent-Length: ${text.length}\r\n\r\n${text}`, 'latin1');
          continue;
        }
        if (name === 'big-cl' || name === 'big-chunked') {
          socket.write(bigResponse(name === 'big-chunked'), 'latin1');
          continue;
        }
        socket.write(UPSTREAM[name] ?? UPSTREAM.ok, 'latin1');
        if (name !== 'ok' && name !== 'chunked') socket.end();
      }
    });
  });
  return new Promise((resolve) => server.listen(port, '127.0.0.1', () => resolve(server)));
}

const show = (a: Answer) => `${a.statuses.join(',') || '-'} ${a.closed ? 'closed' : 'open'}`;

async function main(): Promise<void> {
  const up = await freePort();
  const upstream = await startFakeUpstream(up);
  const origin = ['--origin', `http://127.0.0.1:${up}`, '--procs', '1'];
  const b: Contender = await startNodeServer('B', PROTOTYPE_B, origin, await freePort());
  const a: Contender = await startNodeServer('A', PROTOTYPE_A, origin, await freePort());
  let failures = 0;

  const rows: string[][] = [];
  for (const [name, bytes, statuses, closed, dribble] of CLIENT_CASES) {
    const [rb, ra] = await Promise.all([exchange(b.port, bytes, dribble), exchange(a.port, bytes, dribble)]);
    const ok = rb.statuses.join(',') === statuses.join(',') && rb.closed === closed;
    if (!ok) failures++;
    rows.push([name, show({ statuses, closed }), show(rb), show(ra), ok ? 'ok' : 'FAIL']);
  }
  console.log('client side: malformed requests (expected = what B must answer; A = node:http/llhttp, for reference)\n');
  console.log(table(['request', 'expected', 'B', 'A (node:http)', 'B ok'], rows));

  const upRows: string[][] = [];
  for (const name of Object.keys(UPSTREAM)) {
    const expected = UPSTREAM_EXPECT[name] ?? 502;
    const ask = async (port: number) => {
      try {
        const r = await request(port, 'GET', `/up/${name}`);
        return { text: `${r.status}${r.status === 200 ? (r.body === 'hello world\n' ? ' body ok' : ' BODY WRONG') : ''}`, r };
      } catch (err) {
        return { text: `error ${(err as NodeJS.ErrnoException).code ?? ''}`, r: null };
      }
    };
    const [rb, ra] = [await ask(b.port), await ask(a.port)];
    const ok = rb.r !== null && rb.r.status === expected && (expected !== 200 || rb.r.body === 'hello world\n');
    if (!ok) failures++;
    upRows.push([name, String(expected), rb.text, ra.text, ok ? 'ok' : 'FAIL']);
  }
  console.log('\nupstream side: malformed responses from a fake origin (GET /up/<case>)\n');
  console.log(table(['upstream answer', 'expected', 'B', 'A (undici)', 'B ok'], upRows));

  // Streaming both ways: 1 MiB request bodies (CL and chunked) and 1 MiB responses (CL and chunked).
  const streamRows: string[][] = [];
  const streams: [string, string, string, string | undefined, boolean, string][] = [
    ['POST 1 MiB, Content-Length', 'POST', '/up/echo', bigBody(), false, `received ${BIG}`],
    ['POST 1 MiB, chunked', 'POST', '/up/echo', bigBody(), true, `received ${BIG}`],
    ['GET 1 MiB response, Content-Length', 'GET', '/up/big-cl', undefined, false, bigBody()],
    ['GET 1 MiB response, chunked', 'GET', '/up/big-chunked', undefined, false, bigBody()],
  ];
  for (const [name, method, path, body, chunked, want] of streams) {
    const run = async (port: number) => {
      try {
        const r = await request(port, method, path, body, chunked);
        return r.status === 200 && r.body === want ? 'ok' : `${r.status}, ${r.body.length} bytes`;
      } catch (err) {
        return `error ${(err as NodeJS.ErrnoException).code ?? ''}`;
      }
    };
    const [rb, ra] = [await run(b.port), await run(a.port)];
    if (rb !== 'ok') failures++;
    streamRows.push([name, rb, ra, rb === 'ok' ? 'ok' : 'FAIL']);
  }
  console.log('\nstreaming: bodies larger than one read, through the proxy\n');
  console.log(table(['exchange', 'B', 'A', 'B ok'], streamRows));

  await stopAll();
  upstream.close();
  console.log(failures === 0 ? '\nall B answers as expected' : `\n${failures} B answer(s) wrong`);
  process.exit(failures === 0 ? 0 : 1);
}

main().catch((err: unknown) => {
  console.error(err);
  process.exit(1);
});
