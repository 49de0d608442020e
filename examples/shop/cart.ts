// The session-backed cart: `{ productId: quantity }` kept in the visitor's session. The shop runs
// several workers, so the default store is the signed-cookie one (any worker can read it, nothing
// to share); pass a RedisStore for carts too big for a cookie. CSRF: the session cookie is
// SameSite=Lax (not sent on cross-site POSTs) and POST /api/cart takes only JSON (a cross-site
// form cannot send that without a CORS preflight this app never grants).
import { z } from 'zod';
import { CookieStore, NotFoundError, session, validate, type Group, type SessionStore } from '../../src/framework/index.ts';
import type { ProductStore } from './products.ts';

export const CartInput = z.object({
  productId: z.string().min(1, 'productId is required'),
  quantity: z.number().int('quantity must be a whole number').min(1, 'quantity must be at least 1').max(99, 'quantity must be at most 99'),
});
type CartInput = z.infer<typeof CartInput>;

/** The most of one product a cart holds. */
const MAX_LINE = 99;

type CartLines = Record<string, number>;

export interface CartView {
  items: { productId: string; name: string; price: number; quantity: number; subtotal: number }[];
  count: number;
  total: number;
}

export interface CartOptions {
  products: ProductStore;
  store?: SessionStore;
  secret: string | string[];
}

/** Registers GET and POST /cart on `api`, with the session middleware on that group only. */
export function cartRoutes(api: Group<'/api'>, options: CartOptions): void {
  const { products } = options;
  const view = (lines: CartLines): CartView => {
    const items = [];
    for (const [productId, quantity] of Object.entries(lines)) {
      const p = products.get(productId);
      if (p === undefined) continue; // removed from the catalogue since it was added
      items.push({ productId, name: p.name, price: p.price, quantity, subtotal: cents(p.price * quantity) });
    }
    return {
      items,
      count: items.reduce((n, i) => n + i.quantity, 0),
      total: cents(items.reduce((t, i) => t + i.subtotal, 0)),
    };
  };

  api.group('/cart', (cart) => {
    cart.use(session({ store: options.store ?? new CookieStore(), secret: options.secret, cookieName: 'shop_session' }));

    cart.get('/', (c) => c.json(view(c.session.get<CartLines>('cart') ?? {})));

    cart.post('/', validate('json', CartInput), (c) => {
      const { productId, quantity } = c.validated<CartInput>('json');
      if (products.get(productId) === undefined) {
        throw new NotFoundError(`no product with id ${productId}`, 'PRODUCT_NOT_FOUND');
      }
      const lines = { ...(c.session.get<CartLines>('cart') ?? {}) };
      lines[productId] = Math.min(MAX_LINE, (lines[productId] ?? 0) + quantity);
      c.session.set('cart', lines);
      return c.json(view(lines));
    });
  });
}

function cents(n: number): number {
  return Math.round(n * 100) / 100;
}
