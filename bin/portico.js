#!/usr/bin/env node
// Entry for the `portico` bin. Needs Node >= 24 (TypeScript sources run by type stripping);
// `npm install` brings that Node as a dev dependency and npm scripts put it first on PATH.
const [major] = process.versions.node.split('.').map(Number);
if (major < 24) {
  process.stderr.write(`portico needs Node.js >= 24 (this is ${process.version}). Run it through npm (npx portico …), which uses the project's Node.\n`);
  process.exit(1);
}
const { main } = await import('../src/cli/main.ts');
process.exitCode = await main(process.argv.slice(2));
