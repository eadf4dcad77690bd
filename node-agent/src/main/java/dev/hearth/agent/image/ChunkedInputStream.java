package dev.hearth.agent.image;

import java.io.IOException;
import java.io.InputStream;

/** The body of a {@code Transfer-Encoding: chunked} response; trailers are read and dropped. */
final class ChunkedInputStream extends InputStream {
  private final InputStream in;
  private long left; // bytes left in the current chunk
  private boolean done;

  ChunkedInputStream(InputStream in) {
    this.in = in;
  }

  @Override
  public int read() throws IOException {
    byte[] one = new byte[1];
    return read(one, 0, 1) < 0 ? -1 : one[0] & 0xff;
  }

  @Override
  public int read(byte[] b, int off, int len) throws IOException {
    if (done) {
      return -1;
    }
    if (left == 0) {
      String size = HttpDownloader.line(in, Long.MAX_VALUE);
      int semi = size.indexOf(';');
      try {
        left = Long.parseLong((semi < 0 ? size : size.substring(0, semi)).trim(), 16);
      } catch (NumberFormatException e) {
        throw new IOException("bad chunk size", e);
      }
      if (left < 0) {
        throw new IOException("bad chunk size");
      }
      if (left == 0) {
        while (!HttpDownloader.line(in, Long.MAX_VALUE).isEmpty()) {
          // trailers
        }
        done = true;
        return -1;
      }
    }
    int n = in.read(b, off, (int) Math.min(len, left));
    if (n < 0) {
      throw new IOException("connection closed inside a chunk");
    }
    left -= n;
    if (left == 0 && !HttpDownloader.line(in, Long.MAX_VALUE).isEmpty()) {
      throw new IOException("a chunk does not end with CRLF");
    }
    return n;
  }
}
