// The shop's catalogue: an in-memory store, one per app instance (tests get a fresh one each).
// A real shop would put a database behind the same three methods.

export interface Product {
  readonly id: string;
  readonly name: string;
  readonly price: number;
  readonly tags: readonly string[];
}

export type NewProduct = Omit<Product, 'id' | 'tags'> & { tags?: readonly string[] };

export const SEED: readonly Product[] = [
  { id: '1', name: 'Espresso cup', price: 8.5, tags: ['kitchen', 'coffee'] },
  { id: '2', name: 'Linen apron', price: 32, tags: ['kitchen'] },
  { id: '3', name: 'Notebook, dotted A5', price: 12.9, tags: ['paper'] },
];

export class ProductStore {
  readonly #items = new Map<string, Product>();
  #nextId = 1;

  constructor(seed: readonly Product[] = SEED) {
    for (const p of seed) {
      this.#items.set(p.id, p);
      this.#nextId = Math.max(this.#nextId, Number(p.id) + 1);
    }
  }

  list(): Product[] {
    return [...this.#items.values()];
  }

  get(id: string): Product | undefined {
    return this.#items.get(id);
  }

  create(input: NewProduct): Product {
    const product: Product = { id: String(this.#nextId++), name: input.name, price: input.price, tags: [...(input.tags ?? [])] };
    this.#items.set(product.id, product);
    return product;
  }
}
