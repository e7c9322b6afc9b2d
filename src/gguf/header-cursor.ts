/**
 * Sequential reader over the header of a ByteSource. Bytes are fetched in chunks (1 MiB, or more
 * for one long string) and every read is checked against the file size first, so a truncated or
 * lying header ends in a SparseScopeError ('truncated' / 'absurd-size') before anything is allocated.
 */
import { SparseScopeError } from '../errors.ts';
import type { ByteSource } from './byte-source.ts';

const CHUNK = 1 << 20;

export class HeaderCursor {
  private buf: Uint8Array = new Uint8Array(0);
  private view = new DataView(this.buf.buffer);
  private bufStart = 0;
  /** Absolute file offset of the next byte to read. */
  pos = 0;

  constructor(private readonly src: ByteSource) {}

  get remaining(): number {
    return this.src.size - this.pos;
  }

  /** Whether `n` bytes from `pos` are already buffered (then reads need no await). */
  has(n: number): boolean {
    return this.bufStart + this.buf.length - this.pos >= n;
  }

  /** Makes `n` bytes from `pos` available, or throws 'truncated' naming `what`. */
  async need(n: number, what: string): Promise<void> {
    if (n > this.remaining) {
      throw new SparseScopeError(
        'truncated',
        `${this.src.label}: the file ends at byte ${this.src.size} while reading ${what} (${n} bytes needed at offset ${this.pos}); the file is truncated`,
      );
    }
    const have = this.bufStart + this.buf.length - this.pos;
    if (have >= n) return;
    const len = Math.min(Math.max(n, CHUNK), this.remaining);
    this.buf = await this.src.read(this.pos, len);
    this.view = new DataView(this.buf.buffer, this.buf.byteOffset, this.buf.byteLength);
    this.bufStart = this.pos;
  }

  private at(n: number): number {
    const o = this.pos - this.bufStart;
    this.pos += n;
    return o;
  }

  // The readers below assume need() covered them.
  u8(): number {
    return this.view.getUint8(this.at(1));
  }
  i8(): number {
    return this.view.getInt8(this.at(1));
  }
  u16(): number {
    return this.view.getUint16(this.at(2), true);
  }
  i16(): number {
    return this.view.getInt16(this.at(2), true);
  }
  u32(): number {
    return this.view.getUint32(this.at(4), true);
  }
  i32(): number {
    return this.view.getInt32(this.at(4), true);
  }
  f32(): number {
    return this.view.getFloat32(this.at(4), true);
  }
  f64(): number {
    return this.view.getFloat64(this.at(8), true);
  }
  u64(): bigint {
    return this.view.getBigUint64(this.at(8), true);
  }
  i64(): bigint {
    return this.view.getBigInt64(this.at(8), true);
  }
  bytes(n: number): Uint8Array {
    const o = this.at(n);
    return this.buf.subarray(o, o + n);
  }

  /** Reads a u64 that must be a count/length/offset: exact as a number and at most `cap`. */
  async count(what: string, cap: number, capReason: string): Promise<number> {
    await this.need(8, what);
    const v = this.u64();
    if (v > BigInt(cap)) {
      throw new SparseScopeError(
        'absurd-size',
        `${this.src.label}: ${what} is ${v} at offset ${this.pos - 8}, above the limit of ${cap} (${capReason}); the header is corrupt`,
      );
    }
    return Number(v);
  }

  /** Throws 'truncated' unless `bytes` more bytes exist: used before allocating for a declared count. */
  requireRemaining(bytes: number, what: string): void {
    if (bytes > this.remaining) {
      throw new SparseScopeError(
        'truncated',
        `${this.src.label}: ${what} needs at least ${bytes} bytes from offset ${this.pos} but the file has only ${this.remaining} left; the file is truncated or the count is corrupt`,
      );
    }
  }
}
