// Where the bytes of an idle keep-alive connection go (issues 7 and 9; docs/idle-memory.md): for a
// bare net.createServer (Node's floor), then Portico on each engine, N idle connections are
// opened (bench/idle-memory/idle-client.ts) and the server's own figures are read before and
// after, garbage collected: RSS, V8 heap used, heap reserved, external, malloc'd. With
// --snapshot, heap snapshots before and after are diffed by constructor: the objects that each
// connection keeps, in bytes per connection.
//   node bench/idle-memory/attribute.ts [--connections 10000] [--kinds bare,portico,stack,node] [--snapshot] [--seconds 2]
//     [--node-flags '--max-semi-space-size=1']   (V8 flags for the servers, e.g. to see the young generation's share)
import { type ChildProcess, spawn } from 'node:child_process';
import { readFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { parseArgs } from 'node:util';
import { freePort, table, tempDir } from '../io-model/harness.ts';

const { values } = parseArgs({ options: {
  connections: { type: 'string', default: '10000' }, kinds: { type: 'string', default: 'bare,portico,stack,node' },
  snapshot: { type: 'boolean', default: false }, seconds: { type: 'string', default: '2' }, top: { type: 'string', default: '25' },
  'node-flags': { type: 'string', default: '' },
} });
const n = Number(values.connections);
const HERE = import.meta.dirname;
const RAISE_NOFILE = 'ulimit -n 65536 2>/dev/null || ulimit -n "$(ulimit -Hn)"';

type Measure = 'rss' | 'heapTotal' | 'heapUsed' | 'external' | 'arrayBuffers' | 'mallocedMemory';
type Figures = Record<Measure, number> & { spaces: Record<string, number> };

function spawnNode(args: string[], ipc: boolean): ChildProcess {
  return spawn('sh', ['-c', `${RAISE_NOFILE}; exec "$0" "$@"`, process.execPath, ...args],
    { stdio: ipc ? ['ignore', 'inherit', 'inherit', 'ipc'] : ['pipe', 'pipe', 'inherit'] });
}

function ask<T>(child: ChildProcess, msg: string): Promise<T> {
  return new Promise((resolve, reject) => {
    child.once('message', (m) => resolve(m as T));
    child.once('exit', (code) => reject(new Error(`probe exited with ${code}`)));
    child.send(msg);
  });
}

/** Heap snapshot → bytes and counts per "type:constructor name". */
function heapByConstructor(file: string): Map<string, { size: number; count: number }> {
  const snap = JSON.parse(readFileSync(file, 'utf8')) as {
    snapshot: { meta: { node_fields: string[]; node_types: [string[]] } }; nodes: number[]; strings: string[];
  };
  rmSync(file);
  const fields = snap.snapshot.meta.node_fields;
  const stride = fields.length;
  const [iType, iName, iSize] = ['type', 'name', 'self_size'].map((f) => fields.indexOf(f));
  const types = snap.snapshot.meta.node_types[0];
  const out = new Map<string, { size: number; count: number }>();
  for (let i = 0; i < snap.nodes.length; i += stride) {
    const type = types[snap.nodes[i + iType]];
    // Strings are grouped by kind, not by content; code and shapes by kind too.
    const name = type !== 'string' && type !== 'number' && type !== 'array' ? snap.strings[snap.nodes[i + iName]].slice(0, 60) : '';
    const key = `${type}:${name}`;
    const e = out.get(key) ?? { size: 0, count: 0 };
    e.size += snap.nodes[i + iSize];
    e.count++;
    out.set(key, e);
  }
  return out;
}

async function measureKind(kind: string): Promise<{ before: Figures; after: Figures; heap: [string, number, number][] | null }> {
  const port = await freePort();
  const probe = spawnNode(['--expose-gc', ...values['node-flags'].split(' ').filter((f) => f !== ''), join(HERE, 'probe-server.ts'), '--kind', kind, '--port', String(port), '--connections', String(n)], true);
  await new Promise((resolve) => probe.once('message', resolve));
  const snapFile = (tag: string) => join(tempDir(), `${kind}-${tag}-${process.pid}.heapsnapshot`);
  const before = await ask<Figures>(probe, 'measure');
  if (values.snapshot) await ask(probe, `snapshot ${snapFile('before')}`);
  const client = spawnNode([join(HERE, 'idle-client.ts'), '--port', String(port), '--connections', String(n)], false);
  const lines = createInterface({ input: client.stdout! })[Symbol.asyncIterator]();
  const open = (await lines.next()).value as string;
  if (open !== `OPEN ${n}`) throw new Error(`${kind}: idle client said ${open}`);
  await new Promise((r) => setTimeout(r, Number(values.seconds) * 1000));
  const after = await ask<Figures>(probe, 'measure');
  let heap: [string, number, number][] | null = null;
  if (values.snapshot) {
    await ask(probe, `snapshot ${snapFile('after')}`);
    const a = heapByConstructor(snapFile('before'));
    const b = heapByConstructor(snapFile('after'));
    heap = [...b].map(([k, v]): [string, number, number] => [k, (v.size - (a.get(k)?.size ?? 0)) / n, (v.count - (a.get(k)?.count ?? 0)) / n])
      .filter(([, size]) => Math.abs(size) >= 1).sort((x, y) => y[1] - x[1]);
  }
  client.stdin!.write('count\n');
  const alive = (await lines.next()).value as string;
  if (alive !== `ALIVE ${n}`) throw new Error(`${kind}: connections closed during the measurement (${alive})`);
  client.stdin!.write('exit\n');
  await new Promise((r) => client.once('exit', r));
  probe.send('exit');
  await new Promise((r) => probe.once('exit', r));
  return { before, after, heap };
}

const per = (a: Figures, b: Figures, k: Measure) => ((b[k] - a[k]) / n).toFixed(0);
const rows: string[][] = [];
const heaps: [string, [string, number, number][]][] = [];
for (const kind of values.kinds.split(',')) {
  const { before, after, heap } = await measureKind(kind);
  rows.push([kind, per(before, after, 'rss'), per(before, after, 'heapUsed'), per(before, after, 'heapTotal'),
    String(((after.rss - after.heapTotal - (before.rss - before.heapTotal)) / n).toFixed(0)),
    per(before, after, 'external'), per(before, after, 'arrayBuffers'), per(before, after, 'mallocedMemory')]);
  if (!values.snapshot) {
    const spaces = Object.keys(after.spaces).filter((s) => after.spaces[s] !== before.spaces[s]);
    console.log(`${kind}: resident V8 heap pages per connection by space: ${spaces.map((s) => `${s} ${((after.spaces[s] - (before.spaces[s] ?? 0)) / n).toFixed(0)}`).join(', ')}`);
  }
  if (heap !== null) heaps.push([kind, heap]);
}
// A heap snapshot costs memory of its own: with --snapshot only the object table means anything.
if (!values.snapshot) {
  console.log(`bytes per idle keep-alive connection, ${n} connections, after gc (one run: RSS figures move ±10%)`);
  console.log(table(['server', 'RSS', 'V8 heap used', 'V8 heap reserved', 'RSS outside the V8 heap', 'external', 'arrayBuffers', "V8 malloc'd"], rows));
}
for (const [kind, heap] of heaps) {
  console.log(`\n${kind}: heap snapshot difference per connection (type:constructor, bytes, objects)`);
  console.log(table(['what', 'bytes', 'objects'], heap.slice(0, Number(values.top)).map(([k, s, c]) => [k, s.toFixed(0), c.toFixed(2)])));
  console.log(`total in the snapshot: ${heap.reduce((t, [, s]) => t + s, 0).toFixed(0)} bytes per connection`);
}
