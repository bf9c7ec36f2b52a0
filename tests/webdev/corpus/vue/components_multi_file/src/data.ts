export interface Product {
  id: number;
  name: string;
  cents: number;
}

export const products: Product[] = [
  { id: 1, name: 'Keyboard', cents: 4999 },
  { id: 2, name: 'Mouse', cents: 1999 },
  { id: 3, name: 'Monitor', cents: 18900 },
];

export function formatPrice(cents: number): string {
  return `$${(cents / 100).toFixed(2)}`;
}
