// `portico cert install-ca` and `portico cert issue HOST…`: the local development CA (src/edge/dev-ca.ts).
import { existsSync } from 'node:fs';
import { resolve } from 'node:path';
import { ensureDevCa, issueDevCertificate } from '../../edge/dev-ca.ts';
import { devHosts } from '../../edge/listener.ts';
import { loadWithEnv } from '../load.ts';

export class CertUsageError extends Error {}

/** The runtime dir of the config when there is one, else `$PORTICO_RUNTIME_DIR` or `./.portico`. */
async function context(configFile: string): Promise<{ runtimeDir: string; hosts: string[] }> {
  if (!existsSync(configFile)) {
    const dir = process.env.PORTICO_RUNTIME_DIR;
    return { runtimeDir: resolve(dir !== undefined && dir !== '' ? dir : '.portico'), hosts: [] };
  }
  const config = await loadWithEnv(configFile);
  return { runtimeDir: config.runtimeDir, hosts: config.routes.flatMap((r) => r.hosts) };
}

export async function cert(configFile: string, args: string[], out: (s: string) => void = (s) => process.stdout.write(s)): Promise<number> {
  const [sub, ...hosts] = args;
  if (sub === 'install-ca') {
    if (hosts.length > 0) throw new CertUsageError('install-ca takes no arguments');
    const { runtimeDir } = await context(configFile);
    const ca = await ensureDevCa(runtimeDir);
    out(`${ca.created ? 'created' : 'exists'}: ${ca.cert}\n\n`);
    // Changing the system trust store needs root and differs per OS: say how, do not do it.
    out([
      'Trust it for one client:      curl --cacert ' + ca.cert + ' https://localhost:8443/',
      '                              NODE_EXTRA_CA_CERTS=' + ca.cert + ' node …',
      'Trust it system-wide (Debian): sudo cp ' + ca.cert + ' /usr/local/share/ca-certificates/portico-dev.crt && sudo update-ca-certificates',
      'Trust it system-wide (macOS):  sudo security add-trusted-cert -d -r trustRoot -k /Library/Keychains/System.keychain ' + ca.cert,
      `The key (${ca.key}) can sign certificates for any name: keep it on this machine.`,
      '',
    ].join('\n'));
    return 0;
  }
  if (sub === 'issue') {
    const ctx = await context(configFile);
    const names = hosts.length > 0 ? hosts : devHosts(ctx.hosts, '127.0.0.1');
    const first = names[0].replace(/^\*\./, 'wildcard.').replace(/[^\w.-]/g, '_');
    const issued = await issueDevCertificate(ctx.runtimeDir, names, first, true);
    out(`issued for ${names.join(', ')}:\n  cert: ${issued.cert}\n  key:  ${issued.key}\n`);
    out(`use it: listeners: [{ port: 8443, tls: { certs: [{ cert: '${issued.cert}', key: '${issued.key}' }] } }]\n`);
    return 0;
  }
  throw new CertUsageError(sub === undefined ? 'missing subcommand: install-ca or issue' : `unknown subcommand "${sub}": expected install-ca or issue`);
}
