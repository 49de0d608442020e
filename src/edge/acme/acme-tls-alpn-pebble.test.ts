// TLS-ALPN-01 end to end against Debian's pebble: a stack with one HTTPS listener and no cleartext
// one, on the port pebble's validator is told to use (`tlsPort`; the test DNS gives the name
// 127.0.0.1). Pebble validates for real (no PEBBLE_VA_ALWAYS_VALID): its HTTP-01 port has nobody
// listening, so only the handshake answer can get the certificate issued.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { X509Certificate } from 'node:crypto';
import { existsSync, mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import tls from 'node:tls';
import { startPebble, type Pebble } from '../../../test/helpers/pebble.ts';
import { startTestDns, type TestDns } from '../../../test/helpers/dns-server.ts';
import { closedPort, waitFor } from '../../../test/helpers/servers.ts';
import { startStack, type TestStack } from '../../../test/helpers/stack.ts';
import { AcmeChallenges } from './challenges.ts';

const HOST = 'alpn.test';
const hasPebble = existsSync('/usr/bin/pebble');

function peerCertificate(port: number): Promise<tls.DetailedPeerCertificate> {
  return new Promise((resolve, reject) => {
    const socket = tls.connect({ host: '127.0.0.1', port, servername: HOST, rejectUnauthorized: false, ALPNProtocols: ['h2'] }, () => {
      const chain = socket.getPeerCertificate(true);
      socket.end();
      resolve(chain);
    });
    socket.once('error', reject);
  });
}

describe('ACME TLS-ALPN-01 against pebble', { skip: hasPebble ? false : 'pebble is not installed' }, () => {
  let dns: TestDns;
  let pebble: Pebble;
  let stack: TestStack | undefined;
  let tlsPort: number;

  before(async () => {
    dns = await startTestDns();
    dns.records.set(HOST, ['127.0.0.1']);
    tlsPort = await closedPort();
    pebble = await startPebble({ httpPort: await closedPort(), tlsPort, dnsServer: dns.address });
  });
  after(async () => {
    await stack?.close();
    await pebble?.stop();
    await dns?.close();
  });

  it('issues through the https listener\'s handshake and swaps the certificate in', async (t) => {
    const validations = t.mock.method(AcmeChallenges.prototype, 'setValidation');
    const storage = mkdtempSync(join(tmpdir(), 'portico-acme-alpn-'));
    stack = await startStack({
      listeners: [{ name: 'https', host: '127.0.0.1', port: tlsPort, tls: { acme: { directory: pebble.directory, email: 'ops@alpn.test', storage, caCert: pebble.caCert, challenge: 'tls-alpn-01' } } }],
      routes: [{ host: HOST, path: '/', respond: { status: 200, body: 'alpn' } }],
    });
    const s = stack;
    const chain = await waitFor(async () => {
      const c = await peerCertificate(tlsPort);
      return String(c.issuer.CN).startsWith('Pebble') ? c : null;
    }, `a pebble certificate (pebble output:\n${pebble.output()}\nstack logs:\n${s.logs.join('\n')})`, 30_000);
    assert.match(chain.subjectaltname ?? '', /DNS:alpn\.test/);
    const leaf = new X509Certificate(chain.raw);
    assert.ok(leaf.verify(new X509Certificate(chain.issuerCertificate.raw).publicKey), 'signed by pebble\'s intermediate');
    // The order went through TLS-ALPN-01 (HTTP-01 had nobody to answer), and its certificate is gone.
    assert.deepEqual(validations.mock.calls.map((c) => c.arguments[0]), [HOST]);
    assert.equal(s.stack.acmeChallenges.validationFor(HOST), undefined);
    assert.ok(s.logs.every((l) => !l.includes('could not obtain')), s.logs.join('\n'));
  });
});
