/** Quoting for the repair commands verify prints: a POSIX shell reads each word back unchanged. */

/** One shell word: bare when it is made of safe characters, else in single quotes (URNs hold `$`). */
export function shellWord(word: string): string {
  if (/^[A-Za-z0-9_@%+=:,./-]+$/.test(word)) return word;
  return `'${word.replaceAll("'", "'\\''")}'`;
}

export function shellLine(words: readonly string[]): string {
  return words.map(shellWord).join(" ");
}
