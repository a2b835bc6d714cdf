// Reads the rule files a user names with --rules: files, or folders searched (with the one folder walker) for
// .yml / .yaml files.
import { readFile, stat } from 'node:fs/promises';
import { walkFiles } from './walk.js';

/** Rule files larger than this are refused: a Sigma rule is a few kilobytes. */
const MAX_RULE_FILE = 1024 * 1024;

export class RuleFileError extends Error {
  override name = 'RuleFileError';
}

async function readRule(path: string): Promise<{ name: string; text: string }> {
  const st = await stat(path);
  if (st.size > MAX_RULE_FILE) throw new RuleFileError(`--rules: ${path} is larger than ${MAX_RULE_FILE} bytes: not a rule file`);
  return { name: path, text: await readFile(path, 'utf8') };
}

/** Every .yml / .yaml file under the given paths (in walk order), with its text. Throws RuleFileError for a bad path. */
export async function readRuleFiles(paths: readonly string[]): Promise<Array<{ name: string; text: string }>> {
  const out: Array<{ name: string; text: string }> = [];
  for (const p of paths) {
    const st = await stat(p).catch(() => null);
    if (!st) throw new RuleFileError(`--rules: no such file or folder: ${p}`);
    if (!st.isDirectory()) {
      out.push(await readRule(p));
      continue;
    }
    const problem = (parts: readonly string[], kind: string) => {
      if (kind === 'unreadable') throw new RuleFileError(`--rules: folder not readable: ${[p, ...parts].join('/')}`);
    };
    for await (const f of walkFiles(p, { problem })) if (/\.ya?ml$/i.test(f.name)) out.push(await readRule(f.abs));
  }
  return out;
}
