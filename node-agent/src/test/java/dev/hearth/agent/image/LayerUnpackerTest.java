package dev.hearth.agent.image;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.function.Consumer;
import org.apache.commons.compress.archivers.tar.TarArchiveEntry;
import org.apache.commons.compress.archivers.tar.TarArchiveOutputStream;
import org.apache.commons.compress.archivers.tar.TarConstants;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Tar headers that commons-compress would hold in memory whole are bounded. */
class LayerUnpackerTest {
  @TempDir Path tmp;

  private static byte[] tar(int longFileMode, Consumer<TarArchiveEntry> edit, String name)
      throws Exception {
    ByteArrayOutputStream bytes = new ByteArrayOutputStream();
    try (TarArchiveOutputStream out = new TarArchiveOutputStream(bytes)) {
      out.setLongFileMode(longFileMode);
      TarArchiveEntry e = new TarArchiveEntry(name);
      edit.accept(e);
      e.setSize(1);
      out.putArchiveEntry(e);
      out.write('x');
      out.closeArchiveEntry();
    }
    return bytes.toByteArray();
  }

  private void apply(byte[] tar) throws Exception {
    Path root = Files.createDirectories(tmp.resolve("root"));
    new LayerUnpacker(root, 1L << 30, 1000).apply(new ByteArrayInputStream(tar), "sha256:test");
  }

  @Test
  void oversizedPaxAndLongNameHeadersAreRefused() throws Exception {
    int over = PaxTarInputStream.MAX_HEADER_BYTES + 1;
    byte[] pax =
        tar(
            TarArchiveOutputStream.LONGFILE_POSIX,
            e -> e.addPaxHeader("comment", "c".repeat(over)),
            "f");
    // Written by hand: commons-compress takes minutes to write a name this long itself.
    ByteArrayOutputStream bytes = new ByteArrayOutputStream();
    try (TarArchiveOutputStream out = new TarArchiveOutputStream(bytes)) {
      TarArchiveEntry l = new TarArchiveEntry("././@LongLink", TarConstants.LF_GNUTYPE_LONGNAME);
      l.setSize(over);
      out.putArchiveEntry(l);
      out.write("n".repeat(over).getBytes(StandardCharsets.US_ASCII));
      out.closeArchiveEntry();
    }
    byte[] longName = bytes.toByteArray();
    for (byte[] t : new byte[][] {pax, longName}) {
      assertThatThrownBy(() -> apply(t))
          .isInstanceOfSatisfying(
              ImageException.class,
              e -> {
                assertThat(e.reason()).isEqualTo("ImageLayerRefused");
                assertThat(e.getMessage()).contains("headers exceed");
              });
    }
  }

  @Test
  void contentOfSkippedEntriesCountsAgainstTheBound() throws Exception {
    ByteArrayOutputStream bytes = new ByteArrayOutputStream();
    try (TarArchiveOutputStream out = new TarArchiveOutputStream(bytes)) {
      // A whiteout with content: nothing is unpacked from it, but all of it must be read.
      TarArchiveEntry w = new TarArchiveEntry(".wh.gone");
      w.setSize(2048);
      out.putArchiveEntry(w);
      out.write(new byte[2048]);
      out.closeArchiveEntry();
    }
    Path root = Files.createDirectories(tmp.resolve("root"));
    assertThatThrownBy(
            () ->
                new LayerUnpacker(root, 1024, 1000)
                    .apply(new ByteArrayInputStream(bytes.toByteArray()), "sha256:test"))
        .isInstanceOfSatisfying(
            ImageException.class,
            e -> assertThat(e.getMessage()).contains("unpacks to more than 1024 bytes"));
  }

  @Test
  void headersUnderTheBoundAreRead() throws Exception {
    apply(
        tar(
            TarArchiveOutputStream.LONGFILE_POSIX,
            e -> e.addPaxHeader("comment", "c".repeat(10_000)),
            "dir/" + "n".repeat(200)));
    assertThat(tmp.resolve("root/dir/" + "n".repeat(200))).hasContent("x");
  }
}
