/**
 * The walked file list, stored compactly: one object and two strings per file
 * (~300 bytes) made the list of 100 000 files ~28 MiB of live heap, and V8
 * grows the heap well past what is live, so the walk alone peaked near
 * 120 MiB RSS. Here an entry is a row of typed arrays plus its name in one
 * UTF-8 arena (~55 bytes); its path is its parent's path and its name, and a
 * {@link TreeEntry} object is made only while the entry is being packed.
 *
 * @module
 */

/** One file, directory or symlink to put in a layer. */
export interface TreeEntry {
  /** Root-relative POSIX path without `./` or trailing `/`. */
  path: string;
  type: "file" | "directory" | "symlink";
  /** Permission bits (including setuid/setgid/sticky). */
  mode: number;
  /** Bytes of a regular file; 0 otherwise. */
  size: number;
  linkTarget?: string;
  /** Where the entry is on disk. */
  source: string;
  /**
   * Device and inode of a regular file as the walk saw it: the packer reads
   * the file later and refuses it when what it opened is another file (a
   * name swapped for a link to something outside the tree in between).
   */
  identity?: { dev: number; ino: number };
}

/** What the walk records of one entry (see {@link TreeList.add}). */
export interface TreeRow {
  /** Row of the directory holding it, or -1 at the root. */
  parent: number;
  name: string;
  type: TreeEntry["type"];
  mode: number;
  size: number;
  /** Row in {@link TreeList.addSourceDir}'s table of the directory it is in on disk. */
  sourceDir: number;
  linkTarget?: string;
  dev?: number | null;
  ino?: number | null;
}

const TYPES = ["file", "directory", "symlink"] as const;
const TYPE_CODE = { file: 0, directory: 1, symlink: 2 } as const;
const encoder = new TextEncoder();
const decoder = new TextDecoder();

/**
 * Entries in tar order (a directory before its contents). Rows must be added
 * in that order, a directory before its children: iteration rebuilds paths
 * from a stack of the open directories.
 */
export class TreeList implements Iterable<TreeEntry> {
  #count = 0;
  #type = new Uint8Array(0);
  #mode = new Uint16Array(0);
  #size = new Float64Array(0);
  #dev = new Float64Array(0);
  #ino = new Float64Array(0);
  #parent = new Int32Array(0);
  #nameStart = new Uint32Array(0);
  #nameLength = new Uint32Array(0);
  #sourceDir = new Uint32Array(0);
  #names = new Uint8Array(0);
  #namesFill = 0;
  #sourceDirs: string[] = [];
  #links = new Map<number, string>();

  /** Number of entries. */
  get length(): number {
    return this.#count;
  }

  /** Record an on-disk directory entries are read from; returns its row. */
  addSourceDir(path: string): number {
    this.#sourceDirs.push(path);
    return this.#sourceDirs.length - 1;
  }

  /** Append an entry; returns its row. */
  add(row: TreeRow): number {
    const i = this.#count;
    if (i === this.#type.length) this.#grow(Math.max(1024, i * 2));
    this.#type[i] = TYPE_CODE[row.type];
    this.#mode[i] = row.mode;
    this.#size[i] = row.size;
    this.#dev[i] = row.dev ?? NaN;
    this.#ino[i] = row.ino ?? NaN;
    this.#parent[i] = row.parent;
    this.#sourceDir[i] = row.sourceDir;
    // A UTF-8 name takes at most 3 bytes per UTF-16 code unit.
    const need = this.#namesFill + row.name.length * 3;
    if (need > this.#names.length) {
      const names = new Uint8Array(Math.max(64 * 1024, need * 2));
      names.set(this.#names.subarray(0, this.#namesFill));
      this.#names = names;
    }
    const { written } = encoder.encodeInto(row.name, this.#names.subarray(this.#namesFill));
    this.#nameStart[i] = this.#namesFill;
    this.#nameLength[i] = written;
    this.#namesFill += written;
    if (row.linkTarget !== undefined) this.#links.set(i, row.linkTarget);
    this.#count++;
    return i;
  }

  /** Bytes of the regular files of at least `min` bytes. */
  fileBytes(min = 0): number {
    let total = 0;
    for (let i = 0; i < this.#count; i++) {
      if (this.#type[i] === 0 && this.#size[i] >= min) total += this.#size[i];
    }
    return total;
  }

  /** The entry in row `i` (its path is rebuilt from its parents). */
  at(i: number): TreeEntry {
    if (i < 0 || i >= this.#count) throw new RangeError(`no entry ${i}`);
    const parent = this.#parent[i];
    return this.#entry(i, parent < 0 ? "" : this.at(parent).path);
  }

  *[Symbol.iterator](): Iterator<TreeEntry> {
    // Paths of the directories enclosing the current entry (rows in tar order).
    const rows: number[] = [];
    const paths: string[] = [];
    for (let i = 0; i < this.#count; i++) {
      const parent = this.#parent[i];
      while (rows.length && rows[rows.length - 1] !== parent) {
        rows.pop();
        paths.pop();
      }
      const entry = this.#entry(i, parent < 0 ? "" : paths[paths.length - 1]);
      if (entry.type === "directory") {
        rows.push(i);
        paths.push(entry.path);
      }
      yield entry;
    }
  }

  #entry(i: number, parentPath: string): TreeEntry {
    const start = this.#nameStart[i];
    const name = decoder.decode(this.#names.subarray(start, start + this.#nameLength[i]));
    const dir = this.#sourceDirs[this.#sourceDir[i]];
    const type = TYPES[this.#type[i]];
    const entry: TreeEntry = {
      path: parentPath ? `${parentPath}/${name}` : name,
      type,
      mode: this.#mode[i],
      size: this.#size[i],
      source: dir === "/" ? `/${name}` : `${dir}/${name}`,
    };
    const link = this.#links.get(i);
    if (link !== undefined) entry.linkTarget = link;
    if (type === "file" && !Number.isNaN(this.#ino[i]) && !Number.isNaN(this.#dev[i])) {
      entry.identity = { dev: this.#dev[i], ino: this.#ino[i] };
    }
    return entry;
  }

  #grow(capacity: number): void {
    const n = this.#count;
    const grow = <T extends Uint8Array | Uint16Array | Uint32Array | Int32Array | Float64Array>(
      old: T,
      make: (n: number) => T,
    ): T => {
      const next = make(capacity);
      next.set(old.subarray(0, n) as never);
      return next;
    };
    this.#type = grow(this.#type, (c) => new Uint8Array(c));
    this.#mode = grow(this.#mode, (c) => new Uint16Array(c));
    this.#size = grow(this.#size, (c) => new Float64Array(c));
    this.#dev = grow(this.#dev, (c) => new Float64Array(c));
    this.#ino = grow(this.#ino, (c) => new Float64Array(c));
    this.#parent = grow(this.#parent, (c) => new Int32Array(c));
    this.#nameStart = grow(this.#nameStart, (c) => new Uint32Array(c));
    this.#nameLength = grow(this.#nameLength, (c) => new Uint32Array(c));
    this.#sourceDir = grow(this.#sourceDir, (c) => new Uint32Array(c));
  }
}
