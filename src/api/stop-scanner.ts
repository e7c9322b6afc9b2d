/**
 * OpenAI-style `stop` sequences over streamed text: text that could still become a stop sequence is held
 * back until it either completes one (the reply ends there, the stop text itself is not returned) or
 * cannot any more.
 */
export class StopScanner {
  private held = '';
  stopped = false;

  constructor(private readonly stops: readonly string[]) {}

  /** The text that is safe to emit now. */
  push(text: string): string {
    if (this.stopped) return '';
    if (this.stops.length === 0) return text;
    const buf = this.held + text;
    let cut = -1;
    for (const s of this.stops) {
      const i = buf.indexOf(s);
      if (i >= 0 && (cut < 0 || i < cut)) cut = i;
    }
    if (cut >= 0) {
      this.stopped = true;
      this.held = '';
      return buf.slice(0, cut);
    }
    // Hold the longest tail of buf that is a proper prefix of some stop sequence.
    let keep = 0;
    for (const s of this.stops) {
      for (let n = Math.min(s.length - 1, buf.length); n > keep; n--) {
        if (buf.endsWith(s.slice(0, n))) {
          keep = n;
          break;
        }
      }
    }
    this.held = buf.slice(buf.length - keep);
    return buf.slice(0, buf.length - keep);
  }

  /** At the end of the reply: whatever was held back (it did not become a stop sequence). */
  flush(): string {
    const t = this.stopped ? '' : this.held;
    this.held = '';
    return t;
  }
}
