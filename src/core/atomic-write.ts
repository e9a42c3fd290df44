// Writes that never leave a half-written file: the bytes go to a temporary file in the same folder,
// are fsynced, then renamed over the target (rename is atomic within one file system). A reader sees
// either the old file or the new one, even if the process is killed mid-write.
import * as fs from 'node:fs';
import * as path from 'node:path';
import { SpecVetError } from './errors';

export function writeFileAtomic(file: string, data: string | Uint8Array): void {
  const dir = path.dirname(path.resolve(file));
  const tmp = path.join(dir, `.${path.basename(file)}.${process.pid}.${Date.now().toString(36)}${Math.random().toString(36).slice(2, 8)}.tmp`);
  let fd: number | undefined;
  try {
    fd = fs.openSync(tmp, 'wx', 0o644);
    fs.writeFileSync(fd, data);
    fs.fsyncSync(fd);
    fs.closeSync(fd);
    fd = undefined;
    fs.renameSync(tmp, file);
  } catch (err) {
    if (fd !== undefined) {
      try {
        fs.closeSync(fd);
      } catch {
        // already failing; the original error is what matters
      }
    }
    try {
      fs.rmSync(tmp, { force: true });
    } catch {
      // a leftover temporary file is harmless and named as such
    }
    const code = (err as NodeJS.ErrnoException).code;
    throw new SpecVetError('io', `cannot write file (${code ?? String(err)})`, file);
  }
  syncDirectory(dir);
}

/** Makes the rename itself durable (POSIX); platforms that cannot open a folder skip it. */
function syncDirectory(dir: string): void {
  let fd: number | undefined;
  try {
    fd = fs.openSync(dir, 'r');
    fs.fsyncSync(fd);
  } catch {
    // Windows cannot fsync a directory; the rename is still atomic there.
  } finally {
    if (fd !== undefined) fs.closeSync(fd);
  }
}
