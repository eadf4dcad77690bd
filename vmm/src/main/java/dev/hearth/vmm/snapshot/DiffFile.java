package dev.hearth.vmm.snapshot;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.StandardOpenOption;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.Arrays;

/**
 * The memory file of a diff snapshot: the guest pages written since its parent snapshot, and which
 * parent that is (a path relative to the diff's directory, and the SHA-256 of the parent's state
 * file). The layout is in docs/snapshot-format.md; the whole file is checksummed.
 */
public final class DiffFile {
  /** The diff format's version. */
  public static final int FORMAT_VERSION = 1;

  /** Guest pages are 4 KiB. */
  public static final int PAGE = 4096;

  static final byte[] MAGIC = "HRTHDIFF".getBytes(StandardCharsets.US_ASCII);
  private static final int FIXED = 68; // up to the parent path's bytes
  private static final int DIGEST = 32;
  private static final int MAX_PATH = 4096;

  private DiffFile() {}

  /**
   * The snapshot a diff was taken against.
   *
   * @param path its directory, relative to the diff's own
   * @param stateDigest the SHA-256 its state file ended with
   */
  public record Parent(String path, byte[] stateDigest) {}

  /** Where {@link #write} gets each page's 4 KiB: page {@code index} of the guest memory file. */
  @FunctionalInterface
  public interface PageSource {
    void copy(long index, ByteBuffer into);
  }

  /** Where {@link #read} puts each page of a verified diff. */
  @FunctionalInterface
  public interface PageSink {
    void page(long index, ByteBuffer data);
  }

  /**
   * Writes the diff to {@code file} (a temporary file, then a rename): {@code pages}, strictly
   * increasing page indexes into a memory file of {@code memoryBytes}, each read from {@code
   * source}.
   */
  public static void write(
      Path file, Parent parent, long memoryBytes, long[] pages, PageSource source) {
    byte[] path = parent.path().getBytes(StandardCharsets.UTF_8);
    Path tmp = file.resolveSibling(file.getFileName() + ".tmp");
    MessageDigest sha = sha256();
    try (FileChannel ch =
        FileChannel.open(
            tmp,
            StandardOpenOption.CREATE,
            StandardOpenOption.TRUNCATE_EXISTING,
            StandardOpenOption.WRITE)) {
      ByteBuffer head = ByteBuffer.allocate(FIXED + path.length + pages.length * 8);
      head.put(MAGIC).putInt(FORMAT_VERSION).putInt(0).putLong(memoryBytes).putLong(pages.length);
      head.put(parent.stateDigest()).putInt(path.length).put(path);
      for (long p : pages) {
        head.putLong(p);
      }
      put(ch, sha, head.flip());
      ByteBuffer page = ByteBuffer.allocate(PAGE);
      for (long p : pages) {
        source.copy(p, page.clear());
        put(ch, sha, page.flip());
      }
      ByteBuffer digest = ByteBuffer.wrap(sha.digest());
      while (digest.hasRemaining()) {
        ch.write(digest);
      }
    } catch (IOException e) {
      throw new SnapshotException("cannot write diff snapshot memory " + file + ": " + e, e);
    }
    try {
      Files.move(tmp, file, StandardCopyOption.REPLACE_EXISTING, StandardCopyOption.ATOMIC_MOVE);
    } catch (IOException e) {
      throw new SnapshotException("cannot write diff snapshot memory " + file + ": " + e, e);
    }
  }

  private static void put(FileChannel ch, MessageDigest sha, ByteBuffer buf) throws IOException {
    sha.update(buf.duplicate());
    while (buf.hasRemaining()) {
      ch.write(buf);
    }
  }

  /**
   * Reads the parent of the diff in {@code file}, checking its header only.
   *
   * @throws SnapshotException if it is not a diff of this version for {@code memoryBytes}
   */
  public static Parent parent(Path file, long memoryBytes) {
    try (FileChannel ch = FileChannel.open(file)) {
      return header(file, ch, memoryBytes).parent;
    } catch (IOException e) {
      throw new SnapshotException("cannot read diff snapshot memory " + file + ": " + e, e);
    }
  }

  /**
   * Verifies the whole diff in {@code file} (its SHA-256 first), then hands each page to {@code
   * sink} in increasing order.
   *
   * @throws SnapshotException naming the file and the fault: not a diff, another version, another
   *     memory size, truncated, corrupted, or page indexes out of order or past the end
   */
  public static void read(Path file, long memoryBytes, PageSink sink) {
    try (FileChannel ch = FileChannel.open(file)) {
      Header h = header(file, ch, memoryBytes);
      MessageDigest sha = sha256();
      ByteBuffer chunk = ByteBuffer.allocate(1 << 20);
      long body = h.size - DIGEST;
      for (long at = 0; at < body; ) {
        chunk.clear().limit((int) Math.min(chunk.capacity(), body - at));
        at += readFully(ch, chunk, at, file);
        sha.update(chunk.flip());
      }
      ByteBuffer stored = ByteBuffer.allocate(DIGEST);
      readFully(ch, stored, body, file);
      if (!Arrays.equals(sha.digest(), stored.array())) {
        throw new SnapshotException(
            "diff snapshot memory " + file + " is corrupted: its SHA-256 does not match");
      }
      ByteBuffer page = ByteBuffer.allocate(PAGE);
      for (int i = 0; i < h.pages.length; i++) {
        readFully(ch, page.clear(), h.dataStart + (long) i * PAGE, file);
        sink.page(h.pages[i], page.flip());
      }
    } catch (IOException e) {
      throw new SnapshotException("cannot read diff snapshot memory " + file + ": " + e, e);
    }
  }

  private record Header(Parent parent, long[] pages, long dataStart, long size) {}

  private static Header header(Path file, FileChannel ch, long memoryBytes) throws IOException {
    long size = ch.size();
    ByteBuffer fixed = ByteBuffer.allocate(FIXED);
    if (size < FIXED + DIGEST) {
      throw new SnapshotException(
          "diff snapshot memory " + file + " is truncated (" + size + " bytes)");
    }
    readFully(ch, fixed, 0, file);
    if (!Arrays.equals(fixed.array(), 0, MAGIC.length, MAGIC, 0, MAGIC.length)) {
      throw new SnapshotException(file + " is not a Hearth diff snapshot (no HRTHDIFF magic)");
    }
    int version = fixed.getInt(8);
    if (version != FORMAT_VERSION) {
      throw new SnapshotException(
          "diff snapshot "
              + file
              + " has format version "
              + version
              + "; this VMM reads version "
              + FORMAT_VERSION);
    }
    long memory = fixed.getLong(16);
    if (memory != memoryBytes) {
      throw new SnapshotException(
          "diff snapshot "
              + file
              + " is of "
              + memory
              + " bytes of memory; the VM has "
              + memoryBytes);
    }
    long count = fixed.getLong(24);
    byte[] digest = Arrays.copyOfRange(fixed.array(), 32, 64);
    int pathLength = fixed.getInt(64);
    long maxPages = memoryBytes / PAGE;
    if (count < 0 || count > maxPages || pathLength < 0 || pathLength > MAX_PATH) {
      throw new SnapshotException(
          "diff snapshot memory "
              + file
              + " is malformed: "
              + count
              + " pages, a parent path of "
              + pathLength
              + " bytes");
    }
    long dataStart = FIXED + pathLength + count * 8;
    long expected = dataStart + count * PAGE + DIGEST;
    if (size != expected) {
      throw new SnapshotException(
          "diff snapshot memory "
              + file
              + " is truncated or padded: "
              + size
              + " bytes where its header says "
              + expected);
    }
    ByteBuffer rest = ByteBuffer.allocate((int) (pathLength + count * 8));
    readFully(ch, rest, FIXED, file);
    String path = new String(rest.array(), 0, pathLength, StandardCharsets.UTF_8);
    long[] pages = new long[(int) count];
    rest.position(pathLength);
    for (int i = 0; i < pages.length; i++) {
      pages[i] = rest.getLong();
      if (pages[i] < 0 || pages[i] >= maxPages || (i > 0 && pages[i] <= pages[i - 1])) {
        throw new SnapshotException(
            "diff snapshot memory " + file + " is malformed: page index " + pages[i] + " at " + i);
      }
    }
    return new Header(new Parent(path, digest), pages, dataStart, size);
  }

  private static int readFully(FileChannel ch, ByteBuffer buf, long at, Path file)
      throws IOException {
    int total = 0;
    while (buf.hasRemaining()) {
      int n = ch.read(buf, at + total);
      if (n < 0) {
        throw new SnapshotException("diff snapshot memory " + file + " is truncated");
      }
      total += n;
    }
    return total;
  }

  private static MessageDigest sha256() {
    try {
      return MessageDigest.getInstance("SHA-256");
    } catch (NoSuchAlgorithmException e) {
      throw new AssertionError("every JDK has SHA-256", e);
    }
  }
}
