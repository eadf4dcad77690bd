package dev.hearth.vmm.snapshot;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.Arrays;

/**
 * The framed state file of a snapshot (docs/snapshot-format.md): the magic {@code HRTHSNAP}, the
 * format version, the length of the state, the state ({@link StateCodec}), and a SHA-256 over all
 * that precedes it. Reading checks each in that order, so that a file of another version is named
 * as such, and a truncated or corrupted one is refused before any of it is decoded.
 */
public final class SnapshotFile {
  /** The format version this VMM writes and reads. */
  public static final int FORMAT_VERSION = 2;

  static final byte[] MAGIC = "HRTHSNAP".getBytes(StandardCharsets.US_ASCII);
  static final int HEADER = 24;
  static final int DIGEST = 32;

  /** More state than any VM has (its memory is in another file); bounds what is read. */
  static final long MAX_STATE = 64L << 20;

  private SnapshotFile() {}

  /**
   * Writes {@code state} to {@code file} atomically (a temporary file, then a rename); returns the
   * file's SHA-256 (its last 32 bytes), by which a diff snapshot names its parent.
   */
  public static byte[] write(Path file, Record state) {
    byte[] body = StateCodec.encode(state);
    ByteBuffer buf = ByteBuffer.allocate(HEADER + body.length + DIGEST);
    buf.put(MAGIC).putInt(FORMAT_VERSION).putInt(0).putLong(body.length).put(body);
    byte[] digest = sha256(buf.array(), HEADER + body.length);
    buf.put(digest);
    Path tmp = file.resolveSibling(file.getFileName() + ".tmp");
    try {
      Files.write(tmp, buf.array());
      Files.move(tmp, file, StandardCopyOption.REPLACE_EXISTING, StandardCopyOption.ATOMIC_MOVE);
    } catch (IOException e) {
      throw new SnapshotException("cannot write snapshot state " + file + ": " + e, e);
    }
    return digest;
  }

  /**
   * The SHA-256 of the state in {@code file}, after the checks {@link #read} makes before decoding.
   *
   * @throws SnapshotException as {@link #read}, but for a malformed state
   */
  public static byte[] digest(Path file) {
    byte[] all = verified(file);
    return Arrays.copyOfRange(all, all.length - DIGEST, all.length);
  }

  /**
   * Reads the {@code type} state from {@code file}.
   *
   * @throws SnapshotException naming the file and the fault: not a snapshot, another format
   *     version, truncated, corrupted (checksum mismatch), or malformed
   */
  public static <R extends Record> R read(Path file, Class<R> type) {
    byte[] all = verified(file);
    try {
      return StateCodec.decode(Arrays.copyOfRange(all, HEADER, all.length - DIGEST), type);
    } catch (SnapshotException e) {
      throw new SnapshotException("snapshot state " + file + " is malformed: " + e.getMessage(), e);
    }
  }

  /** The whole file, once its magic, version, length and SHA-256 are checked. */
  private static byte[] verified(Path file) {
    byte[] all;
    try {
      if (Files.size(file) > HEADER + MAX_STATE + DIGEST) {
        throw new SnapshotException("snapshot state " + file + " is too large to be one");
      }
      all = Files.readAllBytes(file);
    } catch (IOException e) {
      throw new SnapshotException("cannot read snapshot state " + file + ": " + e, e);
    }
    if (all.length < MAGIC.length || !Arrays.equals(all, 0, MAGIC.length, MAGIC, 0, MAGIC.length)) {
      throw new SnapshotException(file + " is not a Hearth snapshot (no HRTHSNAP magic)");
    }
    if (all.length < HEADER + DIGEST) {
      throw new SnapshotException(
          "snapshot state " + file + " is truncated (" + all.length + " bytes)");
    }
    ByteBuffer in = ByteBuffer.wrap(all);
    int version = in.getInt(MAGIC.length);
    if (version != FORMAT_VERSION) {
      throw new SnapshotException(
          "snapshot "
              + file
              + " has format version "
              + version
              + "; this VMM reads version "
              + FORMAT_VERSION);
    }
    long length = in.getLong(16);
    if (length < 0 || length != all.length - HEADER - DIGEST) {
      throw new SnapshotException(
          "snapshot state "
              + file
              + " is truncated or padded: its header says "
              + length
              + " bytes of state, the file holds "
              + (all.length - HEADER - DIGEST));
    }
    byte[] expected = sha256(all, HEADER + (int) length);
    if (!Arrays.equals(all, HEADER + (int) length, all.length, expected, 0, DIGEST)) {
      throw new SnapshotException(
          "snapshot state " + file + " is corrupted: its SHA-256 does not match its content");
    }
    return all;
  }

  private static byte[] sha256(byte[] data, int length) {
    try {
      MessageDigest md = MessageDigest.getInstance("SHA-256");
      md.update(data, 0, length);
      return md.digest();
    } catch (NoSuchAlgorithmException e) {
      throw new AssertionError("every JDK has SHA-256", e);
    }
  }
}
