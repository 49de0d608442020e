// The articles' shop behind the whole journey: edge → routing → proxy → app workers → framework,
// with the page's static files served by the edge itself (nginx's `root`), never waking the app,
// a second, older sub-system under /legacy, and the old shop's URLs redirected.
import { defineConfig } from '../../src/config/index.ts';

export default defineConfig({
  listeners: [{ name: 'http', host: '127.0.0.1', port: 8080 }],
  apps: {
    shop: { module: './app.ts', workers: 2 },
    legacy: { module: './legacy.ts', workers: 1 },
  },
  routes: [
    { name: 'api', path: '/api', app: 'shop', compress: true },
    { name: 'legacy', path: '/legacy', app: 'legacy', stripPrefix: true, hostHeader: 'legacy.internal', responseHeaders: { set: { 'x-subsystem': 'legacy' } } },
    { name: 'old-shop', pathRegex: '^/old-shop/(.*)$', redirect: { to: '/$1', status: 301 } },
    {
      name: 'site',
      path: '/',
      static: {
        root: './public',
        cacheControl: [{ match: '*.html', value: 'no-cache' }, { match: '*', value: 'public, max-age=31536000, immutable' }],
      },
      compress: true,
    },
  ],
  // The seeds' log line: `[$time_local] $host to: $upstream_addr: $request $status …`
  accessLog: { format: 'main' },
  shutdownTimeout: '10s',
});
