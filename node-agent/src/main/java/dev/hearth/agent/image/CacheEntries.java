package dev.hearth.agent.image;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.FileTime;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Set;
import java.util.stream.Stream;

/**
 * The {@link ImageCache}'s entries on disk: one file per key in {@code blobs}, its modification
 * time the last use, and beside it in {@code privateMarks} a mark when it came from a pull with
 * credentials. Sizes are read from the files each time, so they stay true across restarts; a file
 * evicted while it is listed is skipped. The cache serialises eviction.
 */
final class CacheEntries {
  private final Path blobs;
  private final Path privateMarks;

  CacheEntries(Path blobs, Path privateMarks) {
    this.blobs = blobs;
    this.privateMarks = privateMarks;
  }

  /** Bytes of every entry. */
  long sizeBytes() {
    return entries().stream().mapToLong(Entry::size).sum();
  }

  /** Bytes of the entries whose keys are in {@code held}. */
  long bytesOf(Set<String> held) {
    return entries().stream().filter(e -> held.contains(e.key())).mapToLong(Entry::size).sum();
  }

  /**
   * Deletes entries not in {@code held}, least recently used first, until all of them together take
   * at most {@code maxBytes} (or no unheld one is left).
   */
  void evict(Set<String> held, long maxBytes) {
    List<Entry> all = entries();
    long total = all.stream().mapToLong(Entry::size).sum();
    List<Entry> candidates = new ArrayList<>();
    for (Entry e : all) {
      if (!held.contains(e.key())) {
        candidates.add(e);
      }
    }
    candidates.sort(Comparator.comparing(Entry::lastUsed));
    for (Entry e : candidates) {
      if (total <= maxBytes) {
        break;
      }
      deleteQuietly(blobs.resolve(e.key()));
      deleteQuietly(privateMarks.resolve(e.key()));
      total -= e.size();
    }
  }

  private record Entry(String key, long size, FileTime lastUsed) {}

  private List<Entry> entries() {
    List<Entry> out = new ArrayList<>();
    try (Stream<Path> files = Files.list(blobs)) {
      for (Path p : files.toList()) {
        try {
          out.add(
              new Entry(p.getFileName().toString(), Files.size(p), Files.getLastModifiedTime(p)));
        } catch (IOException e) {
          // Evicted concurrently.
        }
      }
    } catch (IOException e) {
      throw new UncheckedIOException("cannot list image cache " + blobs, e);
    }
    return out;
  }

  /** Deletes a file, or a directory with all below it (links not followed); best effort. */
  static void deleteQuietly(Path p) {
    try (Stream<Path> walk = Files.walk(p)) {
      for (Path q : walk.sorted(Comparator.reverseOrder()).toList()) {
        Files.deleteIfExists(q);
      }
    } catch (IOException e) {
      // Missing already, or retried by the next start's clean-up.
    }
  }
}
