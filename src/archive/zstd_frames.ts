/**
 * Splits a zstd stream at frame boundaries. Deno's zstd decoder stops after
 * the first frame and silently drops the rest, but multi-frame streams are
 * common (our parallel blocks, zstd:chunked layers, skippable frames), so
 * every frame is handed to a fresh decoder. Only headers are parsed here;
 * block contents are counted, not decoded.
 *
 * @module
 */

import { IntegrityError } from "../errors.ts";

/** A piece of one zstd frame; skippable frames produce no segments. */
export interface FrameSegment {
  data: Uint8Array;
  /** The frame ends with this segment. */
  frameEnd: boolean;
}

const ZSTD_MAGIC = 0xfd2fb528;

const enum S {
  Magic,
  SkipSize,
  Skip,
  FrameHeader,
  BlockHeader,
  BlockBody,
  Checksum,
}

/**
 * Incremental frame splitter.
 *
 * @example
 * ```ts
 * import zlib from "node:zlib";
 * import { ZstdFrameSplitter } from "./zstd_frames.ts";
 * const frame = zlib.zstdCompressSync(new TextEncoder().encode("hi"));
 * const segments = new ZstdFrameSplitter().feed(frame);
 * console.assert(segments.at(-1)!.frameEnd);
 * ```
 */
export class ZstdFrameSplitter {
  #state = S.Magic;
  #head = new Uint8Array(18);
  #headFill = 0;
  #headNeed = 4;
  #remaining = 0;
  #lastBlock = false;
  #checksum = false;

  /** True between frames (a clean place for the input to end). */
  get atBoundary(): boolean {
    return this.#state === S.Magic && this.#headFill === 0;
  }

  /** Split `chunk`; segments keep their order. */
  feed(chunk: Uint8Array): FrameSegment[] {
    const out: FrameSegment[] = [];
    let start = 0; // start of the pending frame-data segment in chunk
    let pos = 0;
    const emit = (frameEnd: boolean) => {
      if (pos > start || frameEnd) out.push({ data: chunk.subarray(start, pos), frameEnd });
      start = pos;
    };
    while (pos < chunk.byteLength) {
      const state = this.#state;
      if (state === S.BlockBody || state === S.Skip) {
        const take = Math.min(this.#remaining, chunk.byteLength - pos);
        this.#remaining -= take;
        pos += take;
        if (state === S.Skip) start = pos;
        if (this.#remaining === 0 && this.#afterBody()) emit(true);
        continue;
      }
      const take = Math.min(this.#headNeed - this.#headFill, chunk.byteLength - pos);
      this.#head.set(chunk.subarray(pos, pos + take), this.#headFill);
      this.#headFill += take;
      pos += take;
      // Magic and skippable-frame headers are not frame data: keep them out of segments.
      if (state === S.Magic || state === S.SkipSize) start = pos;
      if (this.#headFill < this.#headNeed) continue;
      const ended = this.#onHead();
      if (state === S.Magic && this.#state === S.FrameHeader) {
        out.push({ data: this.#head.slice(0, 4), frameEnd: false });
      }
      if (ended) emit(state !== S.SkipSize);
    }
    emit(false);
    return out;
  }

  /** The input ended; throws unless it ended between frames. */
  finish(): void {
    if (!this.atBoundary) throw new IntegrityError("zstd stream is truncated");
  }

  #need(n: number): void {
    this.#headFill = 0;
    this.#headNeed = n;
  }

  /** Handle a completed header; returns true when a frame just ended. */
  #onHead(): boolean {
    const h = this.#head;
    switch (this.#state) {
      case S.Magic: {
        const magic = (h[0] | (h[1] << 8) | (h[2] << 16) | (h[3] << 24)) >>> 0;
        if (magic === ZSTD_MAGIC) {
          this.#state = S.FrameHeader;
          this.#need(1);
        } else if ((magic & 0xfffffff0) >>> 0 === 0x184d2a50) {
          this.#state = S.SkipSize;
          this.#need(4);
        } else {
          throw new IntegrityError("corrupt zstd data: bad frame magic");
        }
        return false;
      }
      case S.SkipSize:
        this.#remaining = (h[0] | (h[1] << 8) | (h[2] << 16) | (h[3] << 24)) >>> 0;
        this.#state = S.Skip;
        if (this.#remaining === 0) {
          this.#state = S.Magic;
          this.#need(4);
        }
        return false;
      case S.FrameHeader: {
        if (this.#headNeed === 1) {
          const fhd = h[0];
          if (fhd & 0x08) {
            throw new IntegrityError("corrupt zstd data: reserved frame header bit set");
          }
          const singleSegment = (fhd >> 5) & 1;
          const fcsFlag = fhd >> 6;
          const fcsSize = [singleSegment ? 1 : 0, 2, 4, 8][fcsFlag];
          const dictSize = [0, 1, 2, 4][fhd & 3];
          this.#checksum = ((fhd >> 2) & 1) === 1;
          const rest = (singleSegment ? 0 : 1) + dictSize + fcsSize;
          if (rest > 0) {
            // Re-read the descriptor byte as part of a longer header.
            this.#head[0] = fhd;
            this.#headNeed = 1 + rest;
            return false;
          }
        }
        this.#state = S.BlockHeader;
        this.#need(3);
        return false;
      }
      case S.BlockHeader: {
        const header = h[0] | (h[1] << 8) | (h[2] << 16);
        this.#lastBlock = (header & 1) === 1;
        const type = (header >> 1) & 3;
        const size = header >>> 3;
        if (type === 3) throw new IntegrityError("corrupt zstd data: reserved block type");
        this.#remaining = type === 1 ? 1 : size;
        this.#state = S.BlockBody;
        return this.#remaining === 0 ? this.#afterBody() : false;
      }
      case S.Checksum:
        this.#state = S.Magic;
        this.#need(4);
        return true;
    }
    return false;
  }

  /** A block or skippable body is complete; returns true when a zstd frame ended. */
  #afterBody(): boolean {
    if (this.#state === S.Skip) {
      this.#state = S.Magic;
      this.#need(4);
      return false;
    }
    if (!this.#lastBlock) {
      this.#state = S.BlockHeader;
      this.#need(3);
      return false;
    }
    if (this.#checksum) {
      this.#state = S.Checksum;
      this.#need(4);
      return false;
    }
    this.#state = S.Magic;
    this.#need(4);
    return true;
  }
}
