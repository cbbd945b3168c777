/** A short random id (hex), from crypto.getRandomValues: available in every browser context and in Node. */
export function randomId(bytes = 6): string {
  return Array.from(crypto.getRandomValues(new Uint8Array(bytes)), (b) => b.toString(16).padStart(2, '0')).join('');
}
