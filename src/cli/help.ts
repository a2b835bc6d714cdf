/** The "Examples:" block of a command's --help: 2–3 command lines a user can adapt. */
export function examples(lines: string[]): string {
  return `\nExamples:\n${lines.map((l) => `  ${l}`).join('\n')}\n`;
}
