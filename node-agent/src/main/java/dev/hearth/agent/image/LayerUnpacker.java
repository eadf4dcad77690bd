package dev.hearth.agent.image;

import dev.hearth.api.v1alpha1.HearthApi;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.nio.file.DirectoryNotEmptyException;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.nio.file.attribute.FileTime;
import java.util.ArrayList;
import java.util.Collections;
import java.util.Comparator;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import java.util.stream.Stream;
import org.apache.commons.compress.archivers.tar.TarArchiveEntry;

/**
 * Applies image layers (tar streams, bottom first) to a staging directory, as overlayfs would see
 * them merged: whiteouts ({@code .wh.<name>}) delete what lower layers made, an opaque marker
 * ({@code .wh..wh..opq}) hides a directory's lower content, a later entry replaces an earlier one.
 * Extended attributes come from PAX records ({@link PaxTarInputStream}).
 *
 * <p>Layers are hostile input. Entry names are normalised and any that climbs out ({@code ..}) is
 * refused; no entry is written through a symbolic link (a parent that is a link refuses the entry,
 * and files are created without following one); hard links must name a regular file already
 * unpacked. The total of file sizes, the number of entries, and extended attributes (count, size,
 * names) are bounded.
 *
 * <p>Files land in staging owned by the agent and readable only by it; their owner, group and mode
 * (setuid included) are kept in {@link #metadata()} for {@link Ext4Builder} to set inside the file
 * system image, so the node never holds a tenant's setuid file. Device nodes and FIFOs are skipped:
 * a VM's kernel makes its own {@code /dev}.
 */
final class LayerUnpacker {
  static final String WHITEOUT = ".wh.";
  static final String OPAQUE = ".wh..wh..opq";

  /** Extended attributes one entry may carry: how many, and their names and values in bytes. */
  static final int MAX_XATTRS_PER_ENTRY = 32;

  /** Fits one 4 KiB ext4 block with the attributes' headers (no ea_inode feature is set). */
  static final int MAX_XATTR_BYTES_PER_ENTRY = 3072;

  /** Extended attributes of the whole image: how many (each is one debugfs command). */
  static final int MAX_XATTRS = 65_536;

  /** The namespaces taken from layers; others ({@code system.*}) are left out and counted. */
  static final List<String> XATTR_NAMESPACES = List.of("user.", "security.", "trusted.");

  /**
   * Owner, group, full {@code st_mode} (type and permission bits) and extended attributes (raw
   * values by name) of one path.
   */
  record Meta(int mode, long uid, long gid, Map<String, byte[]> xattrs) {
    Meta(int mode, long uid, long gid) {
      this(mode, uid, gid, Map.of());
    }
  }

  private final Path root;
  private final long maxBytes;
  private final long maxEntries;
  private final Map<String, Meta> metadata = new TreeMap<>();
  private long bytes;
  private long declared;
  private long entries;
  private int skipped;
  private long xattrs;
  private int xattrsLeftOut;

  LayerUnpacker(Path root, long maxBytes, long maxEntries) {
    this.root = root;
    this.maxBytes = maxBytes;
    this.maxEntries = maxEntries;
  }

  /** What each path in the staging directory should be owned by and its mode, by relative path. */
  Map<String, Meta> metadata() {
    return metadata;
  }

  /** Bytes of regular files unpacked, all layers together. */
  long bytes() {
    return bytes;
  }

  /** Entries unpacked, all layers together. */
  long entries() {
    return entries;
  }

  /** Device nodes and FIFOs left out. */
  int skipped() {
    return skipped;
  }

  /** Extended attributes left out: outside {@link #XATTR_NAMESPACES}. */
  int xattrsLeftOut() {
    return xattrsLeftOut;
  }

  /** Applies one uncompressed layer, on top of what earlier calls applied. */
  void apply(InputStream tar, String layer) throws ImageException, IOException {
    Set<String> thisLayer = new HashSet<>();
    PaxTarInputStream in = new PaxTarInputStream(tar);
    for (TarArchiveEntry e; (e = next(in, layer)) != null; ) {
      if (++entries > maxEntries) {
        throw refused(layer, "more than " + maxEntries + " entries");
      }
      // Content the tar declares is read (or skipped: whiteouts, devices) whatever it is, so all
      // of it counts against the bound: a compressed layer could make any amount of it.
      declared += Math.max(0, e.getSize());
      if (declared > maxBytes) {
        throw refused(
            layer,
            "the image unpacks to more than " + maxBytes + " bytes (the layers declare more)");
      }
      String name = normalise(e.getName(), layer);
      if (name.isEmpty()) { // the root itself
        if (e.isDirectory()) {
          metadata.put("", meta(e, 0040000, in, layer));
        }
        continue;
      }
      int slash = name.lastIndexOf('/');
      String parent = slash < 0 ? "" : name.substring(0, slash);
      String base = name.substring(slash + 1);
      Path dir = directory(parent, layer);
      if (base.equals(OPAQUE)) {
        clearLower(dir, parent, thisLayer);
        continue;
      }
      if (base.startsWith(WHITEOUT)) {
        String hidden = base.substring(WHITEOUT.length());
        if (hidden.isEmpty() || hidden.equals(".") || hidden.equals("..")) {
          throw refused(layer, "a whiteout without a name: " + e.getName());
        }
        String path = parent.isEmpty() ? hidden : parent + "/" + hidden;
        delete(dir.resolve(hidden), path);
        continue;
      }
      Path target = dir.resolve(base);
      thisLayer.add(name);
      if (e.isDirectory()) {
        if (!Files.isDirectory(target, LinkOption.NOFOLLOW_LINKS)) {
          delete(target, name);
          Files.createDirectory(target);
        }
        metadata.put(name, meta(e, 0040000, in, layer));
      } else if (e.isSymbolicLink()) {
        delete(target, name);
        Files.createSymbolicLink(target, Path.of(e.getLinkName())); // never followed here
        metadata.put(
            name, new Meta(0120777, e.getLongUserId(), e.getLongGroupId(), xattrs(in, e, layer)));
      } else if (e.isLink()) {
        String linked = normalise(e.getLinkName(), layer);
        Meta m = metadata.get(linked);
        Path source = root.resolve(linked);
        if (m == null
            || !Files.isRegularFile(source, LinkOption.NOFOLLOW_LINKS)
            || hasLinkedParent(linked)) {
          throw refused(layer, "hard link " + e.getName() + " to a path that is no regular file");
        }
        if (!source.equals(target)) {
          delete(target, name);
          Files.createLink(target, source);
          metadata.put(name, m);
        }
      } else if (e.isFile()) {
        bytes += e.getSize(); // bounded with all declared content above
        delete(target, name);
        try (OutputStream out =
            Files.newOutputStream(
                target,
                StandardOpenOption.CREATE_NEW,
                StandardOpenOption.WRITE,
                LinkOption.NOFOLLOW_LINKS)) {
          in.transferTo(out);
        }
        Files.setLastModifiedTime(target, FileTime.from(e.getModTime().toInstant()));
        metadata.put(name, meta(e, 0100000, in, layer));
      } else {
        skipped++; // character and block devices, FIFOs
        thisLayer.remove(name);
      }
    }
    // The rest, so a digest sees all of it; bounded, as a compressed stream can go on for long.
    byte[] rest = new byte[1 << 16];
    long trailing = 0;
    for (int n; (n = tar.read(rest)) > 0; ) {
      trailing += n;
      if (trailing > maxBytes) {
        throw refused(layer, "more than " + maxBytes + " bytes after the end of the tar archive");
      }
    }
  }

  /** The next entry, the layer refused where its headers are larger than the bound. */
  private static TarArchiveEntry next(PaxTarInputStream in, String layer)
      throws ImageException, IOException {
    TarArchiveEntry e;
    try {
      e = in.getNextEntry();
    } catch (IOException ex) {
      if (in.headerTooLarge()) {
        throw tooLarge(layer);
      }
      throw ex;
    }
    if (in.headerTooLarge()) {
      throw tooLarge(layer);
    }
    return e;
  }

  private static ImageException tooLarge(String layer) {
    return refused(
        layer,
        "an entry's PAX or long-name headers exceed "
            + PaxTarInputStream.MAX_HEADER_BYTES
            + " bytes");
  }

  /**
   * The entry's extended attributes, checked: names printable without spaces, quotes or backslashes
   * (they go into a debugfs script) and bounded in count and size.
   */
  private Map<String, byte[]> xattrs(PaxTarInputStream in, TarArchiveEntry e, String layer)
      throws ImageException {
    Map<String, byte[]> all = in.xattrs();
    if (all.isEmpty()) {
      return Map.of();
    }
    Map<String, byte[]> kept = new TreeMap<>();
    int size = 0;
    for (Map.Entry<String, byte[]> x : all.entrySet()) {
      String name = x.getKey();
      if (XATTR_NAMESPACES.stream().noneMatch(name::startsWith)) {
        xattrsLeftOut++;
        continue;
      }
      if (name.length() > 255
          || name.chars().anyMatch(c -> c <= 0x20 || c >= 0x7f || c == '"' || c == '\\')) {
        throw refused(
            layer, "extended attribute " + printable(name) + " of " + printable(e.getName()));
      }
      size += name.length() + x.getValue().length;
      kept.put(name, x.getValue());
    }
    if (kept.size() > MAX_XATTRS_PER_ENTRY || size > MAX_XATTR_BYTES_PER_ENTRY) {
      throw refused(
          layer,
          printable(e.getName())
              + " has more than "
              + MAX_XATTRS_PER_ENTRY
              + " extended attributes or "
              + MAX_XATTR_BYTES_PER_ENTRY
              + " bytes of them");
    }
    xattrs += kept.size();
    if (xattrs > MAX_XATTRS) {
      throw refused(layer, "the image has more than " + MAX_XATTRS + " extended attributes");
    }
    return Collections.unmodifiableMap(kept);
  }

  /**
   * The entry name as a relative path: leading '/' and "./" dropped, '.' and empty segments gone;
   * '..' refused. Names with control characters or '"' are refused too (they cannot be named to
   * debugfs safely, and no real image needs them).
   */
  static String normalise(String raw, String layer) throws ImageException {
    List<String> parts = new ArrayList<>();
    for (String s : raw.split("/")) {
      if (s.isEmpty() || s.equals(".")) {
        continue;
      }
      if (s.equals("..")) {
        throw refused(layer, "entry " + printable(raw) + " climbs out with '..'");
      }
      parts.add(s);
    }
    String name = String.join("/", parts);
    if (name.chars().anyMatch(c -> c < 0x20 || c == 0x7f || c == '"')) {
      throw refused(layer, "entry " + printable(raw) + " has a control character or '\"'");
    }
    if (name.length() > 4096) {
      throw refused(layer, "an entry name is longer than 4096 characters");
    }
    return name;
  }

  /**
   * The staging directory for {@code parent}, made (mode from the image default, 0755 root) where
   * it is missing; refused where any part of it is a symbolic link or not a directory.
   */
  private Path directory(String parent, String layer) throws ImageException, IOException {
    Path dir = root;
    if (parent.isEmpty()) {
      return dir;
    }
    StringBuilder path = new StringBuilder();
    for (String part : parent.split("/")) {
      path.append(path.isEmpty() ? "" : "/").append(part);
      dir = dir.resolve(part);
      if (Files.isSymbolicLink(dir)) {
        throw refused(layer, "an entry under " + path + ", which is a symbolic link");
      }
      if (!Files.exists(dir, LinkOption.NOFOLLOW_LINKS)) {
        Files.createDirectory(dir);
        metadata.put(path.toString(), new Meta(0040755, 0, 0));
      } else if (!Files.isDirectory(dir, LinkOption.NOFOLLOW_LINKS)) {
        throw refused(layer, "an entry under " + path + ", which is not a directory");
      }
    }
    return dir;
  }

  private boolean hasLinkedParent(String relative) {
    Path p = root;
    String[] parts = relative.split("/");
    for (int i = 0; i < parts.length - 1; i++) {
      p = p.resolve(parts[i]);
      if (!Files.isDirectory(p, LinkOption.NOFOLLOW_LINKS)) {
        return true;
      }
    }
    return false;
  }

  /** Removes what lower layers put under {@code dir}, keeping what this layer made. */
  private void clearLower(Path dir, String relative, Set<String> thisLayer) throws IOException {
    List<Path> children;
    try (Stream<Path> s = Files.list(dir)) {
      children = s.toList();
    }
    for (Path child : children) {
      String name = (relative.isEmpty() ? "" : relative + "/") + child.getFileName().toString();
      if (!thisLayer.contains(name)) {
        delete(child, name);
      } else if (Files.isDirectory(child, LinkOption.NOFOLLOW_LINKS)) {
        clearLower(child, name, thisLayer);
      }
    }
  }

  /** Deletes {@code p} (a directory with all below it), never following a link. */
  private void delete(Path p, String relative) throws IOException {
    if (!Files.exists(p, LinkOption.NOFOLLOW_LINKS)) {
      return;
    }
    if (Files.isDirectory(p, LinkOption.NOFOLLOW_LINKS)) {
      try (Stream<Path> walk = Files.walk(p)) { // walk does not follow links by default
        for (Path q : walk.sorted(Comparator.reverseOrder()).toList()) {
          try {
            Files.delete(q);
          } catch (DirectoryNotEmptyException e) {
            throw new IOException("cannot clear " + q, e);
          }
        }
      }
    } else {
      Files.delete(p);
    }
    metadata.keySet().removeIf(k -> k.equals(relative) || k.startsWith(relative + "/"));
  }

  private Meta meta(TarArchiveEntry e, int type, PaxTarInputStream in, String layer)
      throws ImageException {
    return new Meta(
        type | (e.getMode() & 07777), e.getLongUserId(), e.getLongGroupId(), xattrs(in, e, layer));
  }

  private static String printable(String s) {
    String cut = s.length() > 200 ? s.substring(0, 200) + "..." : s;
    return "'" + cut.replaceAll("[\\x00-\\x1f\\x7f]", "?") + "'";
  }

  private static ImageException refused(String layer, String why) {
    return new ImageException(
        HearthApi.Reasons.IMAGE_LAYER_REFUSED, "layer " + layer + " refused: " + why, null);
  }
}
