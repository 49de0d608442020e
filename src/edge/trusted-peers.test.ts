// trustedPeers().has: the fast paths (exact Set, IPv4 as integers) answer exactly what node's
// BlockList with isIPv4/isIPv6 classification answered before them, on every case below.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { BlockList, isIPv4, isIPv6 } from 'node:net';
import { parseIPv4, trustedPeers } from './trusted-peers.ts';

/** The previous implementation, kept as the reference. */
function reference(entries: readonly string[]): (address: string) => boolean {
  const list = new BlockList();
  for (const entry of entries) {
    const [addr, bits] = entry.split('/');
    const type = isIPv6(addr) ? 'ipv6' : 'ipv4';
    if (bits === undefined) list.addAddress(addr, type);
    else list.addSubnet(addr, Number(bits), type);
  }
  return (address) => {
    if (address.startsWith('::ffff:') && isIPv4(address.slice(7))) address = address.slice(7);
    const type = isIPv6(address) ? 'ipv6' : isIPv4(address) ? 'ipv4' : null;
    return type !== null && list.check(address, type);
  };
}

const CONFIGS: string[][] = [
  ['127.0.0.0/8', '::1/128'], // the default
  [],
  ['10.0.0.1'],
  ['10.0.0.0/8', '192.168.1.0/24', '172.16.0.0/12'],
  ['0.0.0.0/0'],
  ['203.0.113.7/32', '2001:db8::/32'],
  ['::ffff:10.0.0.0/104'], // v4-mapped IPv6 entry: covers IPv4 peers too
  ['::/0'],
  ['fe80::1', '2001:db8::5'],
  ['100.64.0.0/10', '::1'],
];

const ADDRESSES = [
  '127.0.0.1', '127.255.255.255', '128.0.0.1', '10.0.0.1', '10.0.0.2', '10.255.0.1', '11.0.0.1', '192.168.1.77', '192.168.2.1',
  '172.16.5.4', '172.32.0.1', '203.0.113.7', '203.0.113.8', '100.64.0.1', '100.127.255.255', '100.128.0.0', '0.0.0.0', '255.255.255.255',
  '::ffff:127.0.0.1', '::ffff:10.0.0.1', '::ffff:203.0.113.7', '::ffff:8.8.8.8', '::ffff:7f00:1', '::ffff:a00:1',
  '::1', '0:0:0:0:0:0:0:1', '::2', 'fe80::1', 'FE80::1', 'fe80::1%eth0', '2001:db8::5', '2001:db8:1::1', '2001:db9::1',
  '', 'localhost', '1.2.3', '1.2.3.4.5', '01.2.3.4', '1.2.3.256', '1..2.3', '1.2.3.4 ', ' 1.2.3.4', '::ffff:', '::ffff:1.2.3.04', ':::', 'garbage',
];

test('has() agrees with the BlockList reference for every config × address', () => {
  for (const config of CONFIGS) {
    const fast = trustedPeers(config);
    const ref = reference(config);
    for (const a of ADDRESSES) assert.equal(fast.has(a), ref(a), `${JSON.stringify(config)} has ${JSON.stringify(a)}`);
  }
});

test('has() agrees with the reference on random IPv4 addresses in and around the subnets', () => {
  const config = ['10.0.0.0/8', '192.168.1.0/24', '198.51.100.0/31', '127.0.0.0/8', '::1/128'];
  const fast = trustedPeers(config);
  const ref = reference(config);
  for (let i = 0; i < 5000; i++) {
    const n = [10, 192, 198, 127, 11][i % 5];
    const a = `${n}.${i % 3 === 0 ? 168 : (i * 7) % 256}.${i % 2 === 0 ? 1 : (i * 13) % 256}.${(i * 31) % 256}`;
    assert.equal(fast.has(a), ref(a), a);
    assert.equal(fast.has(`::ffff:${a}`), ref(`::ffff:${a}`), `::ffff:${a}`);
  }
});

test('parseIPv4 takes exactly what isIPv4 takes', () => {
  for (const a of ADDRESSES) assert.equal(parseIPv4(a) >= 0, isIPv4(a), a);
  assert.equal(parseIPv4('1.2.3.4'), 0x01020304);
  assert.equal(parseIPv4('255.255.255.255'), 0xffffffff);
});
