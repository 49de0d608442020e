// ACME end to end against Debian's pebble: a stack with a cleartext listener (pebble validates
// HTTP-01 against it through the test DNS server) and an HTTPS listener with `tls.acme`; the
// certificate is issued at start, hot-swapped over the fallback, stored 0600, and a second stack
// sharing the store serves it without ordering. Skipped only when pebble is not installed.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { X509Certificate } from 'node:crypto';
import { existsSync, mkdtempSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import tls from 'node:tls';
import { startPebble, type Pebble } from '../../../test/helpers/pebble.ts';
import { startTestDns, type TestDns } from '../../../test/helpers/dns-server.ts';
import { closedPort, waitFor } from '../../../test/helpers/servers.ts';
import { startStack, type TestStack } from '../../../test/helpers/stack.ts';
import { certificatePaths } from './storage.ts';

const HOST = 'shop.test';
const hasPebble = existsSync('/usr/bin/pebble');

/** The certificate chain an SNI handshake gets (verification off: we inspect who issued it). */
function peerChain(port: number, servername: string): Promise<tls.DetailedPeerCertificate> {
  return new Promise((resolve, reject) => {
    const socket = tls.connect({ host: '127.0.0.1', port, servername, rejectUnauthorized: false, ALPNProtocols: ['http/1.1'] }, () => {
      const chain = socket.getPeerCertificate(true);
      socket.end();
      resolve(chain);
    });
    socket.once('error', reject);
  });
}

function httpsPort(s: TestStack): number {
  return s.stack.addresses().find((a) => a.name === 'https')!.port;
}

describe('ACME against pebble', { skip: hasPebble ? false : 'pebble is not installed' }, () => {
  let dns: TestDns;
  let pebble: Pebble;
  let httpPort: number;
  const storage = mkdtempSync(join(tmpdir(), 'portico-acme-store-'));
  const stacks: TestStack[] = [];
  const config = (port: number) => ({
    listeners: [
      { name: 'http', host: '127.0.0.1', port },
      { name: 'https', host: '127.0.0.1', port: 0, tls: { acme: { directory: pebble.directory, email: 'ops@shop.test', storage, caCert: pebble.caCert } } },
    ],
    routes: [{ host: HOST, path: '/', respond: { status: 200, body: 'shop' } }],
  });

  before(async () => {
    dns = await startTestDns();
    dns.records.set(HOST, ['127.0.0.1']);
    httpPort = await closedPort();
    pebble = await startPebble({ httpPort, dnsServer: dns.address });
  });
  after(async () => {
    for (const s of stacks) await s.close();
    await pebble?.stop();
    await dns?.close();
  });

  it('issues at start over HTTP-01, stores 0600 and hot-swaps it into the listener', async () => {
    const a = await startStack(config(httpPort));
    stacks.push(a);
    const port = httpsPort(a);
    // Until issuance the listener answers TLS with the development-CA fallback.
    const chain = await waitFor(async () => {
      const c = await peerChain(port, HOST);
      return String(c.issuer.CN).startsWith('Pebble') ? c : null;
    }, `a pebble certificate (pebble output:\n${pebble.output()})`, 30_000);
    assert.match(chain.subjectaltname ?? '', /DNS:shop\.test/);
    // The leaf is signed by the intermediate pebble served in the chain.
    const leaf = new X509Certificate(chain.raw);
    const intermediate = new X509Certificate(chain.issuerCertificate.raw);
    assert.match(intermediate.subject, /Pebble Intermediate CA/);
    assert.ok(leaf.verify(intermediate.publicKey), 'the leaf is signed by pebble\'s intermediate');
    const paths = certificatePaths(storage, [HOST]);
    assert.equal(statSync(paths.key).mode & 0o777, 0o600);
    assert.equal(statSync(paths.cert).mode & 0o777, 0o600);
    assert.ok(a.logs.every((l) => !l.includes('could not obtain')), a.logs.join('\n'));
  });

  it('a second instance sharing the store serves the stored certificate without ordering', async () => {
    const first = await peerChain(httpsPort(stacks[0]), HOST);
    const b = await startStack(config(0));
    stacks.push(b);
    const second = await peerChain(httpsPort(b), HOST);
    assert.equal(second.serialNumber, first.serialNumber);
    // No fallback and no order: the warning for "nothing stored" never appeared.
    assert.ok(b.logs.every((l) => !l.includes('no valid certificate stored')), b.logs.join('\n'));
  });

  it('keeps serving the fallback and logs the failure when the directory is unreachable', async () => {
    const dead = `https://127.0.0.1:${await closedPort()}/dir`;
    const c = await startStack({
      listeners: [{ name: 'https', host: '127.0.0.1', port: 0, tls: { acme: { directory: dead, email: 'ops@shop.test', hosts: ['down.test'], storage: mkdtempSync(join(tmpdir(), 'portico-acme-dead-')) } } }],
      routes: [{ host: 'down.test', path: '/', respond: { status: 200, body: 'down' } }],
    });
    stacks.push(c);
    await waitFor(() => c.logs.some((l) => l.includes('could not obtain a certificate for down.test')), 'the failure logged');
    const chain = await peerChain(httpsPort(c), 'down.test');
    assert.match(String(chain.issuer.CN), /Portico/i);
  });
});
