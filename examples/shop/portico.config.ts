// The articles' shop behind the whole journey: edge → routing → proxy → app workers → framework,
// with the page's static files served by the edge itself (nginx's `root`), never waking the app.
import { defineConfig } from '../../src/config/index.ts';

export default defineConfig({
  listeners: [{ name: 'http', host: '127.0.0.1', port: 8080 }],
  apps: {
    shop: { module: './app.ts', workers: 2 },
  },
  routes: [
    { name: 'api', path: '/api', app: 'shop' },
    { name: 'site', path: '/', static: { root: './public', cacheControl: 'public, max-age=60' } },
  ],
  shutdownTimeout: '10s',
});
