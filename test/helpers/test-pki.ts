// A throwaway PKI for upstream-TLS tests, made with the openssl binary (≥ 3.0 for `req -x509 -CA`)
// in a temp dir: a test CA, a server leaf it signed (origin.test, localhost, 127.0.0.1), a client
// leaf for mutual TLS, and a second CA nobody should trust.
import { execFile } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';

const run = promisify(execFile);

export interface TestPki {
  dir: string;
  /** Paths of PEM files. */
  ca: string;
  otherCa: string;
  serverCert: string;
  serverKey: string;
  clientCert: string;
  clientKey: string;
  read(path: string): Buffer;
  remove(): void;
}

const EC = ['-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes', '-days', '2'];

async function makeCa(dir: string, name: string): Promise<void> {
  await run('openssl', ['req', '-x509', '-new', ...EC, '-keyout', join(dir, `${name}-key.pem`), '-out', join(dir, `${name}.pem`),
    '-subj', `/CN=Portico ${name}`, '-addext', 'basicConstraints=critical,CA:TRUE', '-addext', 'keyUsage=critical,keyCertSign,cRLSign']);
}

async function makeLeaf(dir: string, name: string, ca: string, cn: string, extensions: string[]): Promise<void> {
  await run('openssl', ['req', '-x509', '-new', ...EC, '-keyout', join(dir, `${name}-key.pem`), '-out', join(dir, `${name}.pem`),
    '-CA', join(dir, `${ca}.pem`), '-CAkey', join(dir, `${ca}-key.pem`), '-subj', `/CN=${cn}`,
    '-addext', 'basicConstraints=critical,CA:FALSE', ...extensions.flatMap((e) => ['-addext', e])]);
}

export async function makeTestPki(): Promise<TestPki> {
  const dir = mkdtempSync(join(tmpdir(), 'portico-pki-'));
  await Promise.all([makeCa(dir, 'ca'), makeCa(dir, 'other-ca')]);
  await Promise.all([
    makeLeaf(dir, 'server', 'ca', 'origin.test', ['subjectAltName=DNS:origin.test,DNS:localhost,IP:127.0.0.1', 'extendedKeyUsage=serverAuth']),
    makeLeaf(dir, 'client', 'ca', 'portico-proxy', ['extendedKeyUsage=clientAuth']),
  ]);
  const at = (f: string) => join(dir, f);
  return {
    dir,
    ca: at('ca.pem'),
    otherCa: at('other-ca.pem'),
    serverCert: at('server.pem'),
    serverKey: at('server-key.pem'),
    clientCert: at('client.pem'),
    clientKey: at('client-key.pem'),
    read: (path) => readFileSync(path),
    remove: () => rmSync(dir, { recursive: true, force: true }),
  };
}
