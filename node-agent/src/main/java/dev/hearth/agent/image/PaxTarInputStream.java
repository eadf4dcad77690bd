package dev.hearth.agent.image;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.Map;
import org.apache.commons.compress.archivers.tar.TarArchiveEntry;
import org.apache.commons.compress.archivers.tar.TarArchiveInputStream;

/**
 * A tar reader that also gives each entry's extended attributes ({@code SCHILY.xattr.<name>} PAX
 * records, as Docker, buildah and GNU tar write them) as raw bytes.
 *
 * <p>commons-compress decodes PAX values as UTF-8, which mangles binary values such as {@code
 * security.capability}; so the bytes of the entry's own PAX header ({@code x}) are kept as they are
 * read and parsed here. Global headers ({@code g}) are not taken: no tool writes xattrs there. It
 * also bounds the headers commons-compress would hold in memory whole.
 */
final class PaxTarInputStream extends TarArchiveInputStream {
  static final String XATTR = "SCHILY.xattr.";

  /**
   * The most bytes of PAX and GNU long-name headers one entry may come with (xattrs, long names and
   * link targets included): commons-compress would read any size into memory.
   */
  static final int MAX_HEADER_BYTES = 256 * 1024;

  private final ByteArrayOutputStream pax = new ByteArrayOutputStream();
  private boolean overflow;
  private long headerBytes;
  private int depth;

  PaxTarInputStream(InputStream in) {
    super(in);
  }

  @Override
  public TarArchiveEntry getNextEntry() throws IOException {
    // commons-compress calls this again from inside (for the entry after a PAX or GNU long-name
    // header): only the outer call starts a new entry's record.
    if (depth++ == 0) {
      pax.reset();
      overflow = false;
      headerBytes = 0;
    }
    try {
      return super.getNextEntry();
    } finally {
      depth--;
    }
  }

  @Override
  public int read(byte[] buf, int off, int len) throws IOException {
    int n = super.read(buf, off, len);
    TarArchiveEntry current = getCurrentEntry();
    if (n > 0 && depth > 0 && current != null && isMetadata(current)) {
      // commons-compress holds these in memory whole: a hostile size must end here, before it
      // does. An early end of stream makes it stop; the caller then sees headerTooLarge().
      headerBytes += n;
      if (headerBytes > MAX_HEADER_BYTES) {
        overflow = true;
        return -1;
      }
      if (current.isPaxHeader()) {
        pax.write(buf, off, n);
      }
    }
    return n;
  }

  private static boolean isMetadata(TarArchiveEntry e) {
    return e.isPaxHeader()
        || e.isGlobalPaxHeader()
        || e.isGNULongNameEntry()
        || e.isGNULongLinkEntry();
  }

  /**
   * Whether the entry last asked for came with PAX or GNU long-name headers of more than {@link
   * #MAX_HEADER_BYTES} in all; the stream is then unusable and the layer is to be refused.
   */
  boolean headerTooLarge() {
    return overflow;
  }

  /**
   * The extended attributes of the entry last returned, by name, with their raw values; a later
   * record for a name replaces an earlier one. Malformed records end the parse (commons-compress
   * has already refused a header it cannot read).
   */
  Map<String, byte[]> xattrs() {
    byte[] b = pax.toByteArray();
    Map<String, byte[]> out = new LinkedHashMap<>();
    int pos = 0;
    while (pos < b.length) {
      int space = pos;
      long len = 0;
      while (space < b.length && b[space] >= '0' && b[space] <= '9' && len < b.length) {
        len = len * 10 + (b[space++] - '0');
      }
      if (space >= b.length || b[space] != ' ' || len <= space - pos || pos + len > b.length) {
        break;
      }
      int end = (int) (pos + len); // one past the record's '\n'
      if (b[end - 1] != '\n') {
        break;
      }
      int eq = space + 1;
      while (eq < end - 1 && b[eq] != '=') {
        eq++;
      }
      if (eq < end - 1) {
        String key = new String(b, space + 1, eq - space - 1, StandardCharsets.UTF_8);
        if (key.startsWith(XATTR) && key.length() > XATTR.length()) {
          out.put(key.substring(XATTR.length()), Arrays.copyOfRange(b, eq + 1, end - 1));
        }
      }
      pos = end;
    }
    return out;
  }
}
