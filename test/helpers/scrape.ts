/** Scrapes a text exposition into `family -> value` (the first series of each). */
export async function scrapeValues(url: string): Promise<Map<string, number>> {
  const text = await (await fetch(url)).text();
  const values = new Map<string, number>();
  for (const match of text.matchAll(/^(\w+)\{[^}]*\} (\S+)$/gm)) {
    if (!values.has(match[1]!)) values.set(match[1]!, Number(match[2]));
  }
  return values;
}

/**
 * Scrapes every 20 ms until `check` holds for one scrape, for at most
 * `timeoutMs`; resolves with that scrape or rejects with the last one seen.
 */
export async function scrapeUntil(url: string, check: (values: Map<string, number>) => boolean, what: string, timeoutMs = 5000): Promise<Map<string, number>> {
  const deadline = Date.now() + timeoutMs;
  let values = new Map<string, number>();
  while (Date.now() < deadline) {
    values = await scrapeValues(url);
    if (check(values)) return values;
    await new Promise((r) => setTimeout(r, 20));
  }
  throw new Error(`timed out waiting for ${what}; last scrape: ${JSON.stringify(Object.fromEntries(values))}`);
}
