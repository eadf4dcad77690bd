package dev.hearth.agent.image;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;

/**
 * Makes an ext4 image from an unpacked root: {@code mke2fs -d} copies the tree (hard links stay one
 * inode, symbolic links stay links), then one {@code debugfs} script sets each inode's owner, group
 * and mode (and extended attributes, such as {@code security.capability}) from the layers'
 * metadata, so the image holds the tenant's setuid bits, owners and capabilities while the node's
 * staging copy never did. Sized from what was unpacked plus {@code headroomBytes} free for the
 * guest.
 */
public final class Ext4Builder {
  /**
   * The programs this class runs, by the Debian package that installs them (the agent image
   * installs it; AgentImageToolsTest compares).
   */
  public static final Map<String, String> PROGRAMS =
      Map.of("mke2fs", "e2fsprogs", "debugfs", "e2fsprogs");

  private static final long BLOCK = 4096;
  private static final long MIB = 1 << 20;

  private Ext4Builder() {}

  /** Bytes of an image holding {@code bytes} of files in {@code entries} inodes, plus headroom. */
  static long sizeFor(long bytes, long entries, long headroomBytes) {
    // Each entry takes at most one block beyond its data (tail, directory block); metadata,
    // journal and inode tables take about a tenth, and 16 MiB covers the fixed part.
    long data = bytes + entries * BLOCK;
    long size = data + data / 10 + inodes(entries, headroomBytes) * 256 + 16 * MIB + headroomBytes;
    return (size + MIB - 1) / MIB * MIB;
  }

  static long inodes(long entries, long headroomBytes) {
    return entries + 1024 + headroomBytes / (16 * 1024);
  }

  /** Builds {@code image} from {@code staging}, with {@code metadata} by relative path. */
  static void build(
      Path staging,
      Map<String, LayerUnpacker.Meta> metadata,
      long bytes,
      long entries,
      long headroomBytes,
      Path image)
      throws ImageException {
    // An inode's extended attributes beyond what fits in it take a block of their own.
    long xattrBlocks = metadata.values().stream().filter(m -> !m.xattrs().isEmpty()).count();
    long size = sizeFor(bytes + xattrBlocks * BLOCK, entries, headroomBytes);
    run(
        List.of(
            "mke2fs",
            "-q",
            "-F",
            "-t",
            "ext4",
            "-b",
            Long.toString(BLOCK),
            "-N",
            Long.toString(inodes(entries, headroomBytes)),
            "-m",
            "0",
            "-E",
            "root_owner=0:0",
            "-d",
            staging.toString(),
            image.toString(),
            (size / 1024) + "k"),
        image);
    Path commands = image.resolveSibling(image.getFileName() + ".debugfs");
    Path values = image.resolveSibling(image.getFileName() + ".xattrs");
    try {
      StringBuilder script = new StringBuilder();
      LayerUnpacker.Meta rootMeta = metadata.getOrDefault("", new LayerUnpacker.Meta(040755, 0, 0));
      int[] written = {0};
      append(script, "/", rootMeta, values, written);
      for (Map.Entry<String, LayerUnpacker.Meta> e : metadata.entrySet()) {
        if (!e.getKey().isEmpty()) {
          append(script, "/" + e.getKey(), e.getValue(), values, written);
        }
      }
      Files.writeString(commands, script.toString());
      run(List.of("debugfs", "-w", "-f", commands.toString(), image.toString()), image);
    } catch (IOException e) {
      throw new ImageException.FetchFailed("cannot write the debugfs script for " + image, e);
    } finally {
      try {
        Files.deleteIfExists(commands);
        if (Files.isDirectory(values)) {
          try (var files = Files.list(values)) {
            for (Path f : files.toList()) {
              Files.delete(f);
            }
          }
          Files.delete(values);
        }
      } catch (IOException ignored) {
        // Inside the build's temp dir, which is removed whole.
      }
    }
  }

  /**
   * Names are free of control characters and '"' ({@link LayerUnpacker#normalise}), so are
   * attribute names; attribute values, binary, go through a file each ({@code ea_set -f}), as an
   * inline value could not hold a '"' and a long line would be cut by debugfs' line buffer.
   */
  private static void append(
      StringBuilder s, String path, LayerUnpacker.Meta m, Path values, int[] written)
      throws IOException {
    String q = "\"" + path + "\"";
    for (Map.Entry<String, byte[]> x : m.xattrs().entrySet()) {
      if (written[0] == 0) {
        Files.createDirectory(values);
      }
      Path value = values.resolve(Integer.toString(written[0]++));
      Files.write(value, x.getValue());
      s.append("ea_set -f \"")
          .append(value)
          .append("\" ")
          .append(q)
          .append(" \"")
          .append(x.getKey())
          .append("\"\n");
    }
    s.append("sif ")
        .append(q)
        .append(" mode 0")
        .append(Integer.toOctalString(m.mode()))
        .append('\n');
    s.append("sif ").append(q).append(" uid ").append(m.uid()).append('\n');
    s.append("sif ").append(q).append(" gid ").append(m.gid()).append('\n');
  }

  /**
   * e2fsprogs' own {@code name} where Debian installs it: busybox's applet of the same name, which
   * may come first on PATH (it does in the nested-KVM machine), lacks {@code mke2fs -d}.
   */
  static String program(String name) {
    for (String dir : List.of("/usr/sbin", "/sbin")) {
      Path p = Path.of(dir, name);
      if (Files.isExecutable(p) && !isBusybox(p)) {
        return p.toString();
      }
    }
    return name;
  }

  private static boolean isBusybox(Path p) {
    try {
      return p.toRealPath().getFileName().toString().startsWith("busybox");
    } catch (IOException e) {
      return true;
    }
  }

  /**
   * Runs an e2fsprogs tool; its failure, or any error line it prints (debugfs reports failed
   * commands on stderr and still exits 0), fails the build.
   */
  private static void run(List<String> cmd, Path image) throws ImageException {
    try {
      Path err = Files.createTempFile(image.getParent(), "e2fs-", ".err");
      try {
        List<String> argv = new java.util.ArrayList<>(cmd);
        argv.set(0, program(cmd.get(0)));
        Process p =
            new ProcessBuilder(argv)
                .redirectError(err.toFile())
                .redirectOutput(ProcessBuilder.Redirect.DISCARD)
                .start();
        if (!p.waitFor(10, TimeUnit.MINUTES)) {
          p.destroyForcibly();
          throw new ImageException.FetchFailed(cmd.get(0) + " did not finish in 10 minutes", null);
        }
        List<String> errors =
            Files.readAllLines(err, StandardCharsets.UTF_8).stream()
                .filter(l -> !l.isBlank() && !l.startsWith("debugfs ") && !l.startsWith("mke2fs "))
                .toList();
        if (p.exitValue() != 0 || !errors.isEmpty()) {
          throw new ImageException.FetchFailed(
              cmd.get(0)
                  + " failed building "
                  + image.getFileName()
                  + " (exit "
                  + p.exitValue()
                  + "): "
                  + String.join("; ", errors.subList(0, Math.min(5, errors.size()))),
              null);
        }
      } finally {
        Files.deleteIfExists(err);
      }
    } catch (IOException e) {
      throw new ImageException.FetchFailed("cannot run " + cmd.get(0) + ": " + e.getMessage(), e);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new ImageException.FetchFailed("interrupted running " + cmd.get(0), e);
    }
  }
}
