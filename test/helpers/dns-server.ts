// A tiny authoritative DNS server on loopback UDP for discovery tests (RFC 1035 §4): it answers
// A and AAAA questions from one table and SRV questions (RFC 2782) from another, both edited by
// the test; NXDOMAIN for names in neither. A real server on a
// real socket, so the code under test goes through node:dns exactly as in production.
import dgram from 'node:dgram';
import { isIPv4, isIPv6 } from 'node:net';

export interface TestDns {
  /** `127.0.0.1:port`, for `discovery.resolver`. */
  address: string;
  /** Name (lowercase, no trailing dot) → addresses; edit freely. */
  records: Map<string, string[]>;
  /** SRV owner name (e.g. `_http._tcp.web.test`) → records; targets are looked up in `records`. */
  srv: Map<string, SrvAnswer[]>;
  queries: number;
  /** While true, answers wait (a slow resolver); `release()` sends them and clears it. */
  hold: boolean;
  release(): void;
  close(): Promise<void>;
}

export interface SrvAnswer {
  priority: number;
  weight: number;
  port: number;
  /** A host name, or "." for "service not available here". */
  target: string;
}

const TYPE_A = 1;
const TYPE_AAAA = 28;
const TYPE_SRV = 33;

/** A domain name as labels (RFC 1035 §3.1), uncompressed: RFC 2782 forbids compressing the SRV target. */
function writeName(name: string): Buffer {
  const labels = name === '.' ? [] : name.replace(/\.$/, '').split('.');
  return Buffer.concat([...labels.map((l) => Buffer.concat([Buffer.from([l.length]), Buffer.from(l, 'latin1')])), Buffer.from([0])]);
}

function srvData(a: SrvAnswer): Buffer {
  const head = Buffer.alloc(6);
  head.writeUInt16BE(a.priority, 0);
  head.writeUInt16BE(a.weight, 2);
  head.writeUInt16BE(a.port, 4);
  return Buffer.concat([head, writeName(a.target)]);
}

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
  const waiting: (() => void)[] = [];
  const dns: TestDns = {
    address: '', records: new Map(), srv: new Map(), queries: 0, hold: false,
    release: () => {
      dns.hold = false;
      for (const send of waiting.splice(0)) send();
    },
    close: () => new Promise((r) => socket.close(() => r())),
  };
  socket.on('message', (msg, from) => {
    if (msg.length < 12) return;
    dns.queries++;
    const { name, end } = readName(msg, 12);
    const qtype = msg.readUInt16BE(end);
    const question = msg.subarray(12, end + 4);
    const known = dns.records.get(name) ?? dns.srv.get(name);
    const data = qtype === TYPE_SRV
      ? (dns.srv.get(name) ?? []).map(srvData)
      : (dns.records.get(name) ?? []).filter((ip) => (qtype === TYPE_A ? isIPv4(ip) : qtype === TYPE_AAAA ? isIPv6(ip) : false)).map(ipBytes);
    const header = Buffer.alloc(12);
    header.writeUInt16BE(msg.readUInt16BE(0), 0);
    // QR=1, opcode 0, AA=1, RD copied; RCODE 3 (NXDOMAIN) for names not in the table.
    header.writeUInt16BE(0x8400 | (msg.readUInt16BE(2) & 0x0100) | (known === undefined ? 3 : 0), 2);
    header.writeUInt16BE(1, 4);
    header.writeUInt16BE(data.length, 6);
    const answers = data.map((rdata) => {
      const rr = Buffer.alloc(12);
      rr.writeUInt16BE(0xc00c, 0); // name: pointer to the question's name
      rr.writeUInt16BE(qtype, 2);
      rr.writeUInt16BE(1, 4); // class IN
      rr.writeUInt32BE(1, 6); // ttl 1 s
      rr.writeUInt16BE(rdata.length, 10);
      return Buffer.concat([rr, rdata]);
    });
    const reply = Buffer.concat([header, question, ...answers]);
    const send = () => socket.send(reply, from.port, from.address);
    if (dns.hold) waiting.push(send);
    else send();
  });
  await new Promise<void>((resolve) => socket.bind(0, '127.0.0.1', resolve));
  dns.address = `127.0.0.1:${socket.address().port}`;
  return dns;
}
