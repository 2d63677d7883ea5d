/**
 * Command lines in Markdown: the shell commands of fenced ```sh / ```bash / ```console blocks,
 * split into simple commands the way a shell would (quotes, `\` continuations, comments, `&&`,
 * `||`, `;`, `|`, redirections, `VAR=value` prefixes and `export` lines). Enough shell for
 * documentation, not a shell: `$(...)` and variables are kept as literal text, never expanded.
 */

/** One simple command found in a document. */
export interface DocCommand {
  /** Document path, for messages. */
  readonly file: string;
  /** 1-based line of the command in the document. */
  readonly line: number;
  /** The source text of the logical line the command came from. */
  readonly source: string;
  /** `VAR=value` prefixes plus earlier `export`s of the same block. */
  readonly env: Readonly<Record<string, string>>;
  /** Words after the assignments, quotes removed. */
  readonly words: readonly string[];
}

const SHELL_LANGUAGES = new Set(['sh', 'bash', 'shell', 'console']);
const OPERATORS = ['&&', '||', ';', '|', '&'];
const ASSIGNMENT = /^([A-Za-z_][A-Za-z0-9_]*)=(.*)$/s;

interface Block {
  readonly language: string;
  /** Line number of the first line inside the fence. */
  readonly firstLine: number;
  readonly lines: readonly string[];
}

/** Fenced code blocks with a shell language tag. */
export function shellBlocks(markdown: string): Block[] {
  const blocks: Block[] = [];
  const lines = markdown.split('\n');
  for (let i = 0; i < lines.length; i++) {
    const open = /^(\s*)(`{3,}|~{3,})\s*([\w-]*)/.exec(lines[i] ?? '');
    if (!open) continue;
    const fence = open[2] ?? '```';
    const language = (open[3] ?? '').toLowerCase();
    const body: string[] = [];
    let j = i + 1;
    while (j < lines.length && !(lines[j] ?? '').trim().startsWith(fence)) body.push(lines[j++] ?? '');
    if (SHELL_LANGUAGES.has(language)) blocks.push({ language, firstLine: i + 2, lines: body });
    i = j;
  }
  return blocks;
}

interface LogicalLine {
  readonly line: number;
  readonly text: string;
}

/** Join `\` continuations; in `console` blocks keep only `$ ` prompts (the rest is output). */
function logicalLines(block: Block): LogicalLine[] {
  const out: LogicalLine[] = [];
  let pending: LogicalLine | undefined;
  block.lines.forEach((raw, index) => {
    const lineNo = block.firstLine + index;
    let text = raw;
    if (!pending && block.language === 'console') {
      const prompt = /^\s*\$ (.*)$/.exec(raw);
      if (!prompt) return;
      text = prompt[1] ?? '';
    }
    const continued = /\\\s*$/.test(text);
    const part = continued ? text.replace(/\\\s*$/, ' ') : text;
    pending = pending ? { line: pending.line, text: pending.text + part } : { line: lineNo, text: part };
    if (!continued) {
      out.push(pending);
      pending = undefined;
    }
  });
  if (pending) out.push(pending);
  return out;
}

type Token = { readonly word: string } | { readonly op: string };

/** Split one logical line into words and operators; `#` at a word start begins a comment. */
export function tokenize(text: string): Token[] {
  const tokens: Token[] = [];
  let word = '';
  let inWord = false;
  let i = 0;
  const flush = () => {
    if (inWord) tokens.push({ word });
    word = '';
    inWord = false;
  };
  while (i < text.length) {
    const c = text[i] ?? '';
    if (c === "'") {
      const end = text.indexOf("'", i + 1);
      if (end < 0) throw new Error(`unterminated ' in: ${text}`);
      word += text.slice(i + 1, end);
      inWord = true;
      i = end + 1;
    } else if (c === '"') {
      let j = i + 1;
      while (j < text.length && text[j] !== '"') {
        if (text[j] === '\\' && j + 1 < text.length) {
          word += text[j + 1];
          j += 2;
        } else word += text[j++];
      }
      if (j >= text.length) throw new Error(`unterminated " in: ${text}`);
      inWord = true;
      i = j + 1;
    } else if (c === '\\' && i + 1 < text.length) {
      word += text[i + 1];
      inWord = true;
      i += 2;
    } else if (c === '$' && text[i + 1] === '(') {
      // Command substitution: kept verbatim as part of the word, never split or expanded.
      let depth = 0;
      let j = i + 1;
      for (; j < text.length; j++) {
        if (text[j] === '(') depth++;
        else if (text[j] === ')' && --depth === 0) break;
      }
      word += text.slice(i, j + 1);
      inWord = true;
      i = j + 1;
    } else if (/\s/.test(c)) {
      flush();
      i++;
    } else if (c === '#' && !inWord) {
      break;
    } else {
      const op = OPERATORS.find((o) => text.startsWith(o, i));
      const redirect = /^(\d*>>?|<)(&\d+)?/.exec(text.slice(i));
      if (op && !(op === '&' && text[i - 1] === '>')) {
        flush();
        tokens.push({ op });
        i += op.length;
      } else if (redirect?.[0] && !inWord) {
        tokens.push({ op: redirect[0] });
        i += redirect[0].length;
      } else {
        word += c;
        inWord = true;
        i++;
      }
    }
  }
  flush();
  return tokens;
}

/** The simple commands of one logical line, with redirections and their targets removed. */
function simpleCommands(text: string): string[][] {
  const commands: string[][] = [[]];
  let skipNext = false;
  for (const t of tokenize(text)) {
    if ('op' in t) {
      if (OPERATORS.includes(t.op)) commands.push([]);
      else skipNext = !t.op.includes('&'); // `> file` takes a target, `2>&1` does not
      continue;
    }
    if (skipNext) {
      skipNext = false;
      continue;
    }
    commands[commands.length - 1]?.push(t.word);
  }
  return commands.filter((c) => c.length > 0);
}

/** Every simple command in the shell blocks of `markdown`. `export` lines feed later commands' env. */
export function docCommands(file: string, markdown: string): DocCommand[] {
  const found: DocCommand[] = [];
  for (const block of shellBlocks(markdown)) {
    const exported: Record<string, string> = {};
    for (const { line, text } of logicalLines(block)) {
      for (const words of simpleCommands(text)) {
        const env: Record<string, string> = { ...exported };
        let k = 0;
        for (let m: RegExpExecArray | null; k < words.length && (m = ASSIGNMENT.exec(words[k] ?? '')); k++) {
          env[m[1] ?? ''] = m[2] ?? '';
        }
        const rest = words.slice(k);
        if (rest[0] === 'export') {
          for (const w of rest.slice(1)) {
            const m = ASSIGNMENT.exec(w);
            if (m) exported[m[1] ?? ''] = m[2] ?? '';
          }
        }
        if (rest.length > 0) found.push({ file, line, source: text.trim(), env, words: rest });
      }
    }
  }
  return found;
}

/** GitHub's heading anchors of a Markdown document (lower case, punctuation dropped, spaces to hyphens). */
export function headingAnchors(markdown: string): Set<string> {
  const anchors = new Set<string>();
  let inFence = false;
  for (const line of markdown.split('\n')) {
    if (/^\s*(`{3,}|~{3,})/.test(line)) inFence = !inFence;
    const m = !inFence && /^#{1,6}\s+(.*?)\s*#*\s*$/.exec(line);
    if (!m) continue;
    const base = (m[1] ?? '')
      .toLowerCase()
      .replace(/[^\p{L}\p{N}\s_-]/gu, '')
      .replace(/\s/g, '-');
    let anchor = base;
    for (let n = 1; anchors.has(anchor); n++) anchor = `${base}-${n}`;
    anchors.add(anchor);
  }
  return anchors;
}
