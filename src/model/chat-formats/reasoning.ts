/**
 * Reasoning ("thinking") in a reply: DeepSeek's thinking models write `<think>`reasoning`</think>`answer.
 * In thinking mode the prompt itself ends with `<think>`, so the reply starts inside the reasoning and
 * only `</think>` shows up. This splits a reply, complete or still streaming, into the two parts.
 *
 * While streaming a tag can arrive cut across tokens ("</th" + "ink>"): a tail that may still become
 * a tag is held back from both parts, so the page never shows half a tag.
 */
export const THINK_OPEN = '<think>';
export const THINK_CLOSE = '</think>';

export interface ReasoningSplit {
  /** The reasoning text, or null when the reply has none (so far). */
  reasoning: string | null;
  /** The answer: everything after `</think>`, or the whole reply when it has no reasoning. */
  answer: string;
  /** The reasoning has not closed yet (more of it may stream). */
  open: boolean;
}

export interface SplitOptions {
  /** The prompt ended with `<think>` (thinking mode): the reply begins inside the reasoning. */
  startsInside?: boolean;
  /** The reply may still grow: hold back a tail that could be the start of a tag. Default false. */
  streaming?: boolean;
}

/** Length of the longest suffix of `text` that is a proper prefix of `tag` (0 when none). */
function partialTagAt(text: string, tag: string): number {
  for (let n = Math.min(tag.length - 1, text.length); n > 0; n--) if (text.endsWith(tag.slice(0, n))) return n;
  return 0;
}

export function splitReasoning(text: string, { startsInside = false, streaming = false }: SplitOptions = {}): ReasoningSplit {
  const lead = text.length - text.trimStart().length;
  const rest = text.slice(lead);
  let from: number;
  if (rest.startsWith(THINK_OPEN)) from = lead + THINK_OPEN.length;
  else if (streaming && rest.length < THINK_OPEN.length && THINK_OPEN.startsWith(rest) && rest.length > 0) {
    // "<th…": may become the opening tag; show nothing yet
    return { reasoning: null, answer: '', open: false };
  } else if (startsInside || text.includes(THINK_CLOSE)) from = 0;
  else return { reasoning: null, answer: text, open: false };

  const close = text.indexOf(THINK_CLOSE, from);
  if (close < 0) {
    const body = text.slice(from);
    return { reasoning: streaming ? body.slice(0, body.length - partialTagAt(body, THINK_CLOSE)) : body, answer: '', open: true };
  }
  return { reasoning: text.slice(from, close), answer: text.slice(close + THINK_CLOSE.length), open: false };
}

/** The prompt's text ends inside an opened `<think>`: its reply starts with reasoning. */
export function promptOpensThinking(promptText: string): boolean {
  return /<think>\s*$/.test(promptText);
}

/** An earlier assistant turn as a prompt carries it: the answer only, reasoning dropped. */
export function withoutReasoning(content: string): string {
  return splitReasoning(content).answer;
}
