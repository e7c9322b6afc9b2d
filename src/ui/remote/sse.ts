/**
 * Server-sent events from a fetch body, as OpenAI-compatible servers stream them: events end at a
 * blank line; `data:` lines join with "\n"; comment lines (": keep-alive") and other fields are
 * skipped; CRLF or LF; a line or a UTF-8 character may be split across reads. Yields each event's data.
 */
export async function* sseData(body: ReadableStream<Uint8Array>): AsyncGenerator<string> {
  const reader = body.getReader();
  const utf8 = new TextDecoder();
  let buffer = '';
  let data: string[] = [];
  try {
    while (true) {
      const { value, done } = await reader.read();
      buffer += done ? utf8.decode() : utf8.decode(value, { stream: true });
      let nl: number;
      while ((nl = buffer.search(/\r\n|\n|\r/)) >= 0) {
        const line = buffer.slice(0, nl);
        // A lone "\r" at the end might be half of "\r\n": wait for the next read.
        if (buffer[nl] === '\r' && nl === buffer.length - 1 && !done) break;
        buffer = buffer.slice(nl + (buffer.startsWith('\r\n', nl) ? 2 : 1));
        if (line === '') {
          if (data.length) yield data.join('\n');
          data = [];
        } else if (line.startsWith('data:')) {
          data.push(line.slice(line.startsWith('data: ') ? 6 : 5));
        }
        // ':' comments and event/id/retry fields carry nothing a completion needs.
      }
      if (done) {
        if (buffer.startsWith('data:')) data.push(buffer.slice(buffer.startsWith('data: ') ? 6 : 5));
        if (data.length) yield data.join('\n');
        return;
      }
    }
  } finally {
    reader.releaseLock();
  }
}
