/**
 * Larger registry files are refused: they are almost certainly not hand-written registries (the
 * largest file of 10 000 generated services is 8.2 MiB). The limits below bound the work on a
 * file under it: 64 MiB of long comment lines loads in a second.
 */
export const DEFAULT_MAX_FILE_BYTES = 64 * 1024 * 1024;

/**
 * Limits that keep a hostile or generated file from hanging or crashing the loader. Each is far
 * above what a hand-written registry needs (the largest real registry nests 7 levels deep, has keys
 * of 25 characters, lines of 160, about 4,300 YAML tokens, 1,200 values and no aliases), the two
 * that grow with the number of entries admit a generated set of 10 000 services (bench/generate.ts:
 * 3.1 million tokens and 830,000 values in its orchestration.yaml), and each is checked by linear
 * code before the work it protects, so that crossing it is a located problem rather than a stack
 * overflow, an out-of-memory crash or minutes of parsing.
 */
export const LIMITS = {
  /**
   * Collections nested in each other, aliases expanded. The yaml package composes nodes, and
   * toJS, zod and the override resolution walk values, recursively: around 900 levels overflow
   * the stack. 64 is 9 times the deepest registry and far below that.
   */
  maxDepth: 64,
  /**
   * YAML caps implicit keys at 1024 characters; explicit (`? `) keys get the same cap, since every
   * unknown key is quoted in a problem and compared with each allowed one for a "did you mean".
   */
  maxKeyChars: 1024,
  /**
   * A hand-written line is a key and a value, a few hundred characters at most; a longer line is a
   * pasted blob or minified data, and every problem that quotes its value would print all of it.
   */
  maxLineChars: 65_536,
  /**
   * The parse with positions (the yaml package's CST and Document) takes time and memory per YAML
   * token (keys, values, indicators, comments, line breaks), not per byte: about 2 µs and 200
   * bytes each. Tokens are counted by the lexer alone (0.2 µs each) before that parse starts, so a
   * file over the limit is refused within about a second whatever its size. 5,000,000 is 1.6 times
   * the 10 000-service orchestration.yaml, which the position parse takes about 8 s and 650 MB to
   * read; a file that is valid never pays that (the fast path of fastParse.ts reads it in a tenth of
   * the time and stays under the same limit), only one whose problems must be located.
   */
  maxTokens: 5_000_000,
  /**
   * Anchors and aliases together. The yaml package resolves each alias by scanning every anchor
   * and alias before it, so their number must stay small; a registry has none or a few dozen.
   */
  maxAliasNodes: 10_000,
  /**
   * Values once aliases are expanded, which is what every later check walks: a few nested
   * aliases can otherwise stand for billions of values ("billion laughs"). The bound is relative to
   * the document's own size: this many values plus one per YAML token of the file. A file without
   * aliases never reaches it (each value it writes takes at least one token), so any size the
   * token limit admits loads, while aliases can add at most 200,000 values (170 times the largest
   * hand-written registry) plus about the file's own size, which keeps the walks after parsing
   * linear in the file.
   */
  maxValues: 200_000,
} as const;
