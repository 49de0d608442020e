// The app of the `journey` scenario: Portico's framework answering the 12-byte hello on `/`. It
// sends no freshness information, so a cache in front of it forwards every request (a miss).
// Portico's app workers load it as an app module; pm2 runs it through pm2-framework.mjs.
import { createApp } from '../../src/framework/index.ts';

const app = createApp();
app.get('/', (c) => c.text('hello world\n'));

export default app;
