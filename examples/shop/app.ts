// The articles' shop: a small JSON API on the Portico framework. Run it behind the stack with
// `npm start` (see portico.config.ts), or import it and call `app.request()` in a test.
import { z } from 'zod';
import { createApp, etag, NotFoundError, timing, validate, type App, type Middleware } from '../../src/framework/index.ts';
import { ProductStore } from './products.ts';
import { cartRoutes } from './cart.ts';
import type { SessionStore } from '../../src/framework/index.ts';

const ProductInput = z.object({
  name: z.string().trim().min(1, 'name must not be empty'),
  price: z.number().positive('price must be a positive number'),
  tags: z.array(z.string()).optional(),
});
type ProductInput = z.infer<typeof ProductInput>;

/** Says who answered; handy when the same path may come from the cache or the app. */
const poweredBy: Middleware = async (c, next) => {
  await next();
  c.res!.headers.set('x-powered-by', 'Portico');
};

/** One line per request. No timings here: the stack's Server-Timing and access log own those. */
function requestLogger(enabled: boolean): Middleware {
  return async function logger(c, next) {
    const res = await next();
    if (enabled) console.log(`${c.req.method} ${c.path} ${res.status} ${c.requestId}`);
  };
}

export interface ShopOptions {
  store?: ProductStore;
  dev?: boolean;
  /** Request log lines on stdout; default: on, except under NODE_ENV=test. */
  log?: boolean;
  /** Where carts live; default: in the signed session cookie (works across workers). */
  sessionStore?: SessionStore;
  /** Session cookie secrets, newest first; default: SHOP_SESSION_SECRETS (comma-separated). */
  sessionSecret?: string | string[];
}

// Only for development and tests: anyone reading this file could forge sessions with it.
const DEV_SECRET = 'portico-shop-development-secret-do-not-use-in-production';

function sessionSecret(option: string | string[] | undefined): string | string[] {
  if (option !== undefined) return option;
  const env = process.env.SHOP_SESSION_SECRETS;
  if (env !== undefined && env.trim() !== '') return env.split(',').map((s) => s.trim());
  if (process.env.NODE_ENV === 'production') {
    throw new Error('the shop needs SHOP_SESSION_SECRETS (comma-separated, newest first, each ≥ 32 characters) in production');
  }
  return DEV_SECRET;
}

export function createShopApp(options: ShopOptions = {}): App {
  const store = options.store ?? new ProductStore();
  const app = createApp({ dev: options.dev });
  // First, so `mw;dur` covers all the middleware; the worker's `app;dur` follows these entries.
  app.use(timing());
  app.use('poweredBy', poweredBy);
  app.use(requestLogger(options.log ?? process.env.NODE_ENV !== 'test'));

  app.group('/api', (api) => {
    api.get('/health', (c) => c.json({ status: 'ok' }));

    // The list changes only on POST: revalidations (If-None-Match) get a bodiless 304.
    api.get('/products', etag(), (c) => c.json(store.list()));

    api.get('/products/:id', (c) => {
      const product = store.get(c.params.id);
      if (product === undefined) throw new NotFoundError(`no product with id ${c.params.id}`, 'PRODUCT_NOT_FOUND');
      return c.json(product);
    });

    api.post('/products', validate('json', ProductInput), (c) => {
      const product = store.create(c.validated<ProductInput>('json'));
      return c.json(product, 201, { location: `/api/products/${product.id}` });
    });

    cartRoutes(api, { products: store, store: options.sessionStore, secret: sessionSecret(options.sessionSecret) });
  });
  return app;
}

const app = createShopApp();
export default app;
