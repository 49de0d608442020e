// `portico cert`: the CA is made once, leaves are signed by it for the hosts asked (or the config's).
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { X509Certificate } from 'node:crypto';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { cert, CertUsageError } from './cert.ts';

function project(): { dir: string; file: string } {
  const dir = mkdtempSync(join(tmpdir(), 'portico-cert-'));
  const file = join(dir, 'portico.config.ts');
  writeFileSync(file, `export default { runtimeDir: 'rt', routes: [{ host: ['shop.test', '*.api.test'], respond: { body: 'x' } }] };\n`);
  return { dir, file };
}

describe('portico cert', () => {
  it('install-ca creates the CA once, in the runtime dir', async () => {
    const { dir, file } = project();
    const lines: string[] = [];
    assert.equal(await cert(file, ['install-ca'], (s) => lines.push(s)), 0);
    assert.match(lines[0], new RegExp(`^created: ${join(dir, 'rt', 'dev-ca', 'ca.pem')}`));
    const first = readFileSync(join(dir, 'rt', 'dev-ca', 'ca.pem'), 'utf8');
    assert.equal(await cert(file, ['install-ca'], (s) => lines.push(s)), 0);
    assert.match(lines.at(-2) ?? '', /^exists: /);
    assert.equal(readFileSync(join(dir, 'rt', 'dev-ca', 'ca.pem'), 'utf8'), first, 'a second run keeps the CA clients already trust');
    const ca = new X509Certificate(first);
    assert.ok(ca.ca);
  });

  it('issue signs a leaf for the hosts given, with IP and DNS subjectAltNames', async () => {
    const { dir, file } = project();
    assert.equal(await cert(file, ['issue', 'example.test', '*.example.test', '::1'], () => {}), 0);
    const leaf = new X509Certificate(readFileSync(join(dir, 'rt', 'dev-ca', 'example.test.pem')));
    const ca = new X509Certificate(readFileSync(join(dir, 'rt', 'dev-ca', 'ca.pem')));
    assert.ok(leaf.checkIssued(ca) && leaf.verify(ca.publicKey), 'signed by the dev CA');
    assert.equal(leaf.ca, false);
    assert.equal(leaf.subjectAltName, 'DNS:example.test, DNS:*.example.test, IP Address:0:0:0:0:0:0:0:1');
    assert.ok(leaf.checkHost('a.example.test') !== undefined);
  });

  it("issue without hosts covers the config's route hosts and localhost", async () => {
    const { dir, file } = project();
    await cert(file, ['issue'], () => {});
    const leaf = new X509Certificate(readFileSync(join(dir, 'rt', 'dev-ca', 'localhost.pem')));
    for (const name of ['localhost', 'shop.test', 'x.api.test']) assert.ok(leaf.checkHost(name) !== undefined, name);
    assert.ok(leaf.checkIP('127.0.0.1') !== undefined);
  });

  it('refuses unknown subcommands and names that are not host names', async () => {
    const { file } = project();
    await assert.rejects(cert(file, ['renew'], () => {}), CertUsageError);
    await assert.rejects(cert(file, [], () => {}), CertUsageError);
    await assert.rejects(cert(file, ['issue', 'bad host\n[ext]'], () => {}), /not a host name or IP address/);
  });
});
