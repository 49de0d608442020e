// What pm2 runs in cluster mode (pm2 is the master and balancer there): the shared hello handler
// on node:http. Plain .mjs without top-level await, because pm2 loads the script itself.
import http from 'node:http';
import hello from './hello-app.ts';

http.createServer(hello).listen(Number(process.env.PORT), '127.0.0.1');
