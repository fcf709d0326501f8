import type { Rng } from './prng.js';

/** The demo shop's catalogue: categories, products, and what sells together. */
export interface Product {
  readonly id: string;
  readonly sku: string;
  readonly title: string;
  readonly category: string;
  readonly price: number;
  readonly createdAt: number;
  /** Products bought with this one (its own category's neighbours and a complement). */
  readonly related: readonly number[];
}

interface Category {
  readonly name: string;
  readonly nouns: readonly string[];
  readonly minPrice: number;
  readonly maxPrice: number;
  /** The category its "bought together" complement comes from. */
  readonly complement: string;
}

const CATEGORIES: readonly Category[] = [
  { name: 'apparel', nouns: ['T-Shirt', 'Hoodie', 'Linen Shirt', 'Chinos', 'Rain Jacket', 'Sweater'], minPrice: 19, maxPrice: 140, complement: 'shoes' },
  { name: 'shoes', nouns: ['Sneakers', 'Trail Runners', 'Loafers', 'Boots', 'Sandals'], minPrice: 45, maxPrice: 190, complement: 'accessories' },
  { name: 'accessories', nouns: ['Wallet', 'Belt', 'Backpack', 'Cap', 'Scarf', 'Sunglasses'], minPrice: 12, maxPrice: 95, complement: 'apparel' },
  { name: 'beauty', nouns: ['Face Serum', 'Lip Balm', 'Shampoo', 'Body Lotion', 'Sunscreen SPF 50'], minPrice: 6, maxPrice: 60, complement: 'beauty' },
  { name: 'home', nouns: ['Throw Blanket', 'Scented Candle', 'Cushion Cover', 'Vase', 'Table Lamp'], minPrice: 14, maxPrice: 160, complement: 'kitchen' },
  { name: 'kitchen', nouns: ['Chef Knife', 'Coffee Grinder', 'Cast Iron Pan', 'Tea Set', 'Cutting Board'], minPrice: 15, maxPrice: 220, complement: 'home' },
  { name: 'outdoor', nouns: ['Tent', 'Water Bottle', 'Camping Chair', 'Headlamp', 'Sleeping Bag'], minPrice: 9, maxPrice: 320, complement: 'apparel' },
  { name: 'electronics', nouns: ['Wireless Earbuds', 'Phone Charger', 'Smart Speaker', 'E-Reader', 'USB-C Cable'], minPrice: 9, maxPrice: 280, complement: 'accessories' },
];
const ADJECTIVES = ['Classic', 'Organic', 'Everyday', 'Premium', 'Recycled', 'Compact', 'Vintage', 'Essential', 'Deluxe', 'Lightweight', 'Nordic', '"Signature"'];

export interface Catalog {
  readonly products: readonly Product[];
  readonly categories: readonly string[];
  /** Product indexes per category, most popular first (popularity is Zipf-like). */
  readonly byCategory: ReadonlyMap<string, readonly number[]>;
}

export function buildCatalog(rng: Rng, count: number, openedAt: number): Catalog {
  const products: Product[] = [];
  const byCategory = new Map<string, number[]>();
  for (let i = 0; i < count; i++) {
    const category = CATEGORIES[i % CATEGORIES.length]!;
    const price = Math.round((category.minPrice + (category.maxPrice - category.minPrice) * rng.next() ** 2) * 100) / 100 - 0.01;
    const list = byCategory.get(category.name) ?? [];
    list.push(i);
    byCategory.set(category.name, list);
    products.push({
      id: `p${String(i + 1).padStart(5, '0')}`,
      sku: `${category.name.slice(0, 3).toUpperCase()}-${String(i + 1).padStart(5, '0')}`,
      title: `${rng.pick(ADJECTIVES)} ${rng.pick(category.nouns)}`,
      category: category.name,
      price: Math.max(price, 0.99),
      createdAt: openedAt + Math.floor(rng.next() * 180 * 86_400_000),
      related: [],
    });
  }
  const withRelated = products.map((p, i) => {
    const same = byCategory.get(p.category)!;
    const complement = byCategory.get(CATEGORIES.find((c) => c.name === p.category)!.complement)!;
    const at = same.indexOf(i);
    const related = [same[(at + 1) % same.length]!, same[(at + 2) % same.length]!, complement[rng.int(Math.min(complement.length, 20))]!];
    return { ...p, related: related.filter((r) => r !== i) };
  });
  return { products: withRelated, categories: CATEGORIES.map((c) => c.name), byCategory };
}

/** A product of a category, the first (most popular) ones far more often: rank = n * u^2.5. */
export function drawFromCategory(rng: Rng, catalog: Catalog, category: string): number {
  const list = catalog.byCategory.get(category)!;
  const rank = Math.min(list.length - 1, Math.floor(list.length * rng.next() ** 2.5));
  return list[rank]!;
}
