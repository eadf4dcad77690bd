package dev.hearth.testkit;

import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.zip.GZIPOutputStream;
import org.apache.commons.compress.archivers.tar.TarArchiveEntry;
import org.apache.commons.compress.archivers.tar.TarArchiveOutputStream;
import org.apache.commons.compress.archivers.tar.TarConstants;

/**
 * An OCI image layout on disk (the format {@code skopeo copy oci:DIR:REF} reads) built from layers
 * a test describes entry by entry: files with owner and mode (setuid included), directories,
 * symbolic links, hard links, whiteouts and extended attributes; layers gzip or zstd. Entry names
 * are written as given, so a test can also make hostile layers ({@code ../x}, absolute names).
 */
public final class OciLayout {
  private static final ObjectMapper JSON = new ObjectMapper();
  private final Path dir;
  private final String ref;

  private OciLayout(Path dir, String ref) {
    this.dir = dir;
    this.ref = ref;
  }

  /** The layout's folder. */
  public Path dir() {
    return dir;
  }

  /** The name of its one image in {@code index.json}. */
  public String ref() {
    return ref;
  }

  /**
   * One layer: a tar stream, gzip-compressed when written into the layout ({@code zstd} when {@link
   * #zstd} was called).
   */
  public static final class Layer {
    private final ByteArrayOutputStream tar = new ByteArrayOutputStream();
    private final TarArchiveOutputStream out = new TarArchiveOutputStream(tar);
    private boolean zstd;

    public Layer() {
      out.setLongFileMode(TarArchiveOutputStream.LONGFILE_POSIX);
      out.setBigNumberMode(TarArchiveOutputStream.BIGNUMBER_POSIX);
    }

    /** A directory {@code name} (no trailing slash needed). */
    public Layer dir(String name, int mode, int uid, int gid) {
      TarArchiveEntry e = new TarArchiveEntry(name.endsWith("/") ? name : name + "/");
      return put(e, mode, uid, gid, new byte[0]);
    }

    /** A regular file. */
    public Layer file(String name, String content, int mode, int uid, int gid) {
      return put(
          new TarArchiveEntry(name), mode, uid, gid, content.getBytes(StandardCharsets.UTF_8));
    }

    /** A regular file with binary {@code content} (an executable, say). */
    public Layer file(String name, byte[] content, int mode, int uid, int gid) {
      return put(new TarArchiveEntry(name), mode, uid, gid, content.clone());
    }

    /**
     * A regular file with extended attributes, written as {@code SCHILY.xattr.<name>} PAX records
     * with their raw (binary) values, as Docker and GNU tar write them.
     */
    public Layer file(
        String name, String content, int mode, int uid, int gid, Map<String, byte[]> xattrs) {
      ByteArrayOutputStream records = new ByteArrayOutputStream();
      for (Map.Entry<String, byte[]> x : xattrs.entrySet()) {
        byte[] key = (" SCHILY.xattr." + x.getKey() + "=").getBytes(StandardCharsets.UTF_8);
        int body = key.length + x.getValue().length + 1;
        int len = body + Integer.toString(body).length();
        if (Integer.toString(len).length() != Integer.toString(body).length()) {
          len++; // the length's own digits pushed it over a power of ten
        }
        records.writeBytes(Integer.toString(len).getBytes(StandardCharsets.US_ASCII));
        records.writeBytes(key);
        records.writeBytes(x.getValue());
        records.write('\n');
      }
      put(
          new TarArchiveEntry("PaxHeaders/" + name, TarConstants.LF_PAX_EXTENDED_HEADER_LC),
          0644,
          0,
          0,
          records.toByteArray());
      return file(name, content, mode, uid, gid);
    }

    /** Compresses this layer with {@code zstd(1)} (see {@link Registry#ensureZstd}). */
    public Layer zstd() {
      zstd = true;
      return this;
    }

    /** A symbolic link {@code name -> target}. */
    public Layer symlink(String name, String target) {
      TarArchiveEntry e = new TarArchiveEntry(name, TarConstants.LF_SYMLINK);
      e.setLinkName(target);
      return put(e, 0777, 0, 0, new byte[0]);
    }

    /** A hard link {@code name} to the earlier entry {@code target}. */
    public Layer hardlink(String name, String target) {
      TarArchiveEntry e = new TarArchiveEntry(name, TarConstants.LF_LINK);
      e.setLinkName(target);
      return put(e, 0644, 0, 0, new byte[0]);
    }

    /** A whiteout: {@code name} (from a lower layer) is deleted. */
    public Layer whiteout(String name) {
      int slash = name.lastIndexOf('/');
      String white = name.substring(0, slash + 1) + ".wh." + name.substring(slash + 1);
      return put(new TarArchiveEntry(white), 0644, 0, 0, new byte[0]);
    }

    /** An opaque directory: what lower layers hold under {@code dir} is hidden. */
    public Layer opaque(String dir) {
      return put(new TarArchiveEntry(dir + "/.wh..wh..opq"), 0644, 0, 0, new byte[0]);
    }

    private Layer put(TarArchiveEntry e, int mode, int uid, int gid, byte[] content) {
      e.setMode((e.getMode() & ~07777) | mode);
      e.setUserId(uid);
      e.setGroupId(gid);
      e.setSize(content.length);
      e.setModTime(1_700_000_000_000L);
      try {
        out.putArchiveEntry(e);
        out.write(content);
        out.closeArchiveEntry();
      } catch (IOException ex) {
        throw new TestClusterException("cannot add " + e.getName() + " to a layer", ex);
      }
      return this;
    }

    byte[] tarBytes() throws IOException {
      out.finish();
      return tar.toByteArray();
    }
  }

  /**
   * Writes a layout in {@code dir} holding one linux/amd64 image named {@code ref}: {@code layers}
   * bottom first, and a config with {@code entrypoint}, {@code cmd}, {@code env}, {@code workdir}
   * and {@code user} (each may be empty or null).
   */
  public static OciLayout write(
      Path dir,
      String ref,
      List<Layer> layers,
      List<String> entrypoint,
      List<String> cmd,
      List<String> env,
      String workdir,
      String user) {
    try {
      Files.createDirectories(dir.resolve("blobs/sha256"));
      Files.writeString(dir.resolve("oci-layout"), "{\"imageLayoutVersion\":\"1.0.0\"}");
      List<Object> layerDescriptors = new ArrayList<>();
      List<String> diffIds = new ArrayList<>();
      for (Layer l : layers) {
        byte[] tar = l.tarBytes();
        diffIds.add(digest(tar));
        if (l.zstd) {
          layerDescriptors.add(
              descriptor("application/vnd.oci.image.layer.v1.tar+zstd", blob(dir, zstd(dir, tar))));
          continue;
        }
        ByteArrayOutputStream gz = new ByteArrayOutputStream();
        try (GZIPOutputStream z = new GZIPOutputStream(gz)) {
          z.write(tar);
        }
        layerDescriptors.add(
            descriptor("application/vnd.oci.image.layer.v1.tar+gzip", blob(dir, gz.toByteArray())));
      }
      Map<String, Object> runConfig = new LinkedHashMap<>();
      put(runConfig, "Entrypoint", entrypoint);
      put(runConfig, "Cmd", cmd);
      put(runConfig, "Env", env);
      if (workdir != null) {
        runConfig.put("WorkingDir", workdir);
      }
      if (user != null) {
        runConfig.put("User", user);
      }
      Map<String, Object> config = new LinkedHashMap<>();
      config.put("architecture", "amd64");
      config.put("os", "linux");
      config.put("config", runConfig);
      config.put("rootfs", Map.of("type", "layers", "diff_ids", diffIds));
      byte[] configBytes = JSON.writeValueAsBytes(config);
      Map<String, Object> manifest = new LinkedHashMap<>();
      manifest.put("schemaVersion", 2);
      manifest.put("mediaType", "application/vnd.oci.image.manifest.v1+json");
      manifest.put(
          "config", descriptor("application/vnd.oci.image.config.v1+json", blob(dir, configBytes)));
      manifest.put("layers", layerDescriptors);
      byte[] manifestBytes = JSON.writeValueAsBytes(manifest);
      Map<String, Object> m =
          descriptor("application/vnd.oci.image.manifest.v1+json", blob(dir, manifestBytes));
      m.put("annotations", Map.of("org.opencontainers.image.ref.name", ref));
      Map<String, Object> index = new LinkedHashMap<>();
      index.put("schemaVersion", 2);
      index.put("manifests", List.of(m));
      Files.write(dir.resolve("index.json"), JSON.writeValueAsBytes(index));
      return new OciLayout(dir, ref);
    } catch (IOException e) {
      throw new TestClusterException("cannot write an OCI layout in " + dir, e);
    }
  }

  /** {@code tar} compressed by the {@code zstd} program. */
  private static byte[] zstd(Path dir, byte[] tar) throws IOException {
    Path in = Files.createTempFile(dir, "layer-", ".tar");
    try {
      Files.write(in, tar);
      Process p =
          new ProcessBuilder("zstd", "-q", "-c", "-19", in.toString())
              .redirectError(ProcessBuilder.Redirect.INHERIT)
              .start();
      byte[] out = p.getInputStream().readAllBytes();
      if (!p.waitFor(60, TimeUnit.SECONDS) || p.exitValue() != 0) {
        throw new IOException("zstd failed on " + in);
      }
      return out;
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new IOException("interrupted running zstd", e);
    } finally {
      Files.deleteIfExists(in);
    }
  }

  private static void put(Map<String, Object> m, String key, List<String> value) {
    if (value != null && !value.isEmpty()) {
      m.put(key, value);
    }
  }

  private static Map<String, Object> descriptor(String mediaType, Object[] blob) {
    Map<String, Object> d = new LinkedHashMap<>();
    d.put("mediaType", mediaType);
    d.put("digest", blob[0]);
    d.put("size", blob[1]);
    return d;
  }

  /** Stores {@code content} as a blob; its digest and size. */
  private static Object[] blob(Path dir, byte[] content) throws IOException {
    String digest = digest(content);
    Files.write(dir.resolve("blobs/sha256").resolve(digest.substring(7)), content);
    return new Object[] {digest, (long) content.length};
  }

  /** {@code sha256:<hex>} of {@code content}. */
  public static String digest(byte[] content) {
    try {
      return "sha256:"
          + HexFormat.of().formatHex(MessageDigest.getInstance("SHA-256").digest(content));
    } catch (NoSuchAlgorithmException e) {
      throw new AssertionError(e);
    }
  }
}
