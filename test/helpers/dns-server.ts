// A tiny authoritative DNS server on loopback UDP for discovery tests (RFC 1035 §4): it answers
// A and AAAA questions from a table the test edits, NXDOMAIN for unknown names. A real server on a
// real socket, so the code under test goes through node:dns exactly as in production.
import dgram from 'node:dgram';
import { isIPv4, isIPv6 } from 'node:net';

export interface TestDns {
  /** `127.0.0.1:port`, for `discovery.resolver`. */
  address: string;
  /** Name (lowercase, no trailing dot) → addresses; edit freely. */
  records: Map<string, string[]>;
  queries: number;
  close(): Promise<void>;
}

const TYPE_A = 1;
const TYPE_AAAA = 28;

function readName(msg: Buffer, offset: number): { name: string; end: number } {
  const labels: string[] = [];
  let i = offset;
  while (msg[i] !== 0) {
    const len = msg[i];
    labels.push(msg.toString('latin1', i + 1, i + 1 + len));
    i += 1 + len;
  }
  return { name: labels.join('.').toLowerCase(), end: i + 1 };
}

function ipBytes(ip: string): Buffer {
  if (isIPv4(ip)) return Buffer.from(ip.split('.').map(Number));
  // Expand "::" then write eight 16-bit groups.
  const [head, tail = ''] = ip.split('::');
  const h = head === '' ? [] : head.split(':');
  const t = tail === '' ? [] : tail.split(':');
  const groups = [...h, ...Array<string>(8 - h.length - t.length).fill('0'), ...t];
  const out = Buffer.alloc(16);
  groups.forEach((g, k) => out.writeUInt16BE(parseInt(g, 16), k * 2));
  return out;
}

export async function startTestDns(): Promise<TestDns> {
  const socket = dgram.createSocket('udp4');
  const dns: TestDns = { address: '', records: new Map(), queries: 0, close: () => new Promise((r) => socket.close(() => r())) };
  socket.on('message', (msg, from) => {
    if (msg.length < 12) return;
    dns.queries++;
    const { name, end } = readName(msg, 12);
    const qtype = msg.readUInt16BE(end);
    const question = msg.subarray(12, end + 4);
    const known = dns.records.get(name);
    const wanted = (known ?? []).filter((ip) => (qtype === TYPE_A ? isIPv4(ip) : qtype === TYPE_AAAA ? isIPv6(ip) : false));
    const header = Buffer.alloc(12);
    header.writeUInt16BE(msg.readUInt16BE(0), 0);
    // QR=1, opcode 0, AA=1, RD copied; RCODE 3 (NXDOMAIN) for names not in the table.
    header.writeUInt16BE(0x8400 | (msg.readUInt16BE(2) & 0x0100) | (known === undefined ? 3 : 0), 2);
    header.writeUInt16BE(1, 4);
    header.writeUInt16BE(wanted.length, 6);
    const answers = wanted.map((ip) => {
      const data = ipBytes(ip);
      const rr = Buffer.alloc(12);
      rr.writeUInt16BE(0xc00c, 0); // name: pointer to the question's name
      rr.writeUInt16BE(qtype, 2);
      rr.writeUInt16BE(1, 4); // class IN
      rr.writeUInt32BE(1, 6); // ttl 1 s
      rr.writeUInt16BE(data.length, 10);
      return Buffer.concat([rr, data]);
    });
    socket.send(Buffer.concat([header, question, ...answers]), from.port, from.address);
  });
  await new Promise<void>((resolve) => socket.bind(0, '127.0.0.1', resolve));
  dns.address = `127.0.0.1:${socket.address().port}`;
  return dns;
}
