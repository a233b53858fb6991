// The zip container of torch.save (PyTorch >= 1.6): `<root>/data.pkl`, one `<root>/data/<key>`
// entry per storage, `<root>/version`, and from PyTorch 2.1 `<root>/byteorder`. <root> is the
// file's base name when torch.save wrote to a path and "archive" when it wrote to a buffer, so it
// is read from the entries. yauzl reads the central directory (zip64 included: checkpoints with
// optimizer state pass 4 GB) and streams single entries, so a storage is read only when needed.
import { Buffer } from 'node:buffer';
import yauzl from 'yauzl';

export class TorchZipArchive {
  private constructor(
    readonly path: string,
    private readonly zip: yauzl.ZipFile,
    private readonly entries: Map<string, yauzl.Entry>,
    /** the entries' top folder, with its slash */
    readonly root: string,
  ) {}

  /** Opens the archive and indexes its entries; errors name the file and say what is wrong with it. */
  static async open(path: string): Promise<TorchZipArchive> {
    let zip: yauzl.ZipFile;
    try {
      zip = await yauzl.openPromise(path, { lazyEntries: true, autoClose: false, strictFileNames: false });
    } catch (e) {
      throw new Error(
        `${path}: a zip archive (the torch.save format) that cannot be read, truncated or damaged: ${(e as Error).message}`,
        { cause: e },
      );
    }
    const entries = new Map<string, yauzl.Entry>();
    try {
      for await (const entry of zip.eachEntry()) entries.set(entry.fileName, entry);
    } catch (e) {
      zip.close();
      throw new Error(`${path}: damaged zip directory: ${(e as Error).message}`, { cause: e });
    }
    const pkl = [...entries.keys()].find((n) => /^[^/]+\/data\.pkl$/.test(n));
    if (!pkl) {
      zip.close();
      const torchScript = [...entries.keys()].some((n) => /^[^/]+\/(constants\.pkl|code\/)/.test(n));
      throw new Error(
        torchScript
          ? `${path}: a TorchScript archive (torch.jit.save), not a checkpoint; save the state dict with torch.save(model.state_dict(), path)`
          : `${path}: a zip archive without <name>/data.pkl, so not a torch.save checkpoint`,
      );
    }
    return new TorchZipArchive(path, zip, entries, pkl.slice(0, pkl.length - 'data.pkl'.length));
  }

  has(name: string): boolean {
    return this.entries.has(this.root + name);
  }

  /** Size of a record as the directory states it (before reading it). */
  size(name: string): number | undefined {
    return this.entries.get(this.root + name)?.uncompressedSize;
  }

  /** The whole record `<root>/<name>`; yauzl checks its size (and CRC when it is compressed). */
  async read(name: string): Promise<Buffer> {
    const entry = this.entries.get(this.root + name);
    if (!entry) throw new Error(`${this.path}: the archive has no ${this.root + name}`);
    try {
      const stream = await this.zip.openReadStreamPromise(entry);
      const chunks: Buffer[] = [];
      for await (const chunk of stream) chunks.push(chunk as Buffer);
      return Buffer.concat(chunks);
    } catch (e) {
      throw new Error(
        `${this.path}: cannot read ${this.root + name} (truncated or damaged archive): ${(e as Error).message}`,
        { cause: e },
      );
    }
  }

  close(): void {
    this.zip.close();
  }
}
