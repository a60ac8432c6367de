/** Scans what a reader of a raw (undecoded) history could see, for values that must not be there. */

/** Every text a reader of the raw history could see: the JSON, and every byte field read as text. */
export function visibleTexts(history: unknown): string[] {
  const texts = [JSON.stringify(history)];
  const seen = new WeakSet<object>();
  const walk = (value: unknown): void => {
    if (value instanceof Uint8Array) {
      const bytes = Buffer.from(value);
      texts.push(bytes.toString('utf8'), bytes.toString('latin1'));
    } else if (typeof value === 'string') {
      texts.push(value);
      if (/^[A-Za-z0-9+/]{8,}={0,2}$/.test(value))
        texts.push(Buffer.from(value, 'base64').toString('latin1'));
    } else if (value && typeof value === 'object' && !seen.has(value)) {
      seen.add(value);
      Object.values(value).forEach(walk);
    }
  };
  walk(history);
  return texts;
}

/** The names (never the values) of the secrets that can be read somewhere in the history. */
export function leakedFields<K extends string>(history: unknown, secrets: Record<K, string>): K[] {
  const texts = visibleTexts(history);
  return (Object.keys(secrets) as K[]).filter((field) => texts.some((text) => text.includes(secrets[field])));
}
