// What pm2 runs in cluster mode for the `journey` scenario: the framework hello app behind the
// same fetch bridge Portico's workers use (src/appserver/app-module.ts), on node:http.
// Plain .mjs without top-level await, because pm2 loads the script itself.
import http from 'node:http';
import { fileURLToPath } from 'node:url';
import { loadApp } from '../../src/appserver/app-module.ts';

const module = fileURLToPath(new URL('./hello-framework.ts', import.meta.url));
loadApp(module, (err) => console.error(err)).then(({ listener }) => {
  http.createServer(listener).listen(Number(process.env.PORT), '127.0.0.1');
});
