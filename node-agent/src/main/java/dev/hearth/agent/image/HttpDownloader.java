package dev.hearth.agent.image;

import dev.hearth.agent.state.PrivateFiles;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.HttpURLConnection;
import java.net.SocketTimeoutException;
import java.net.URI;
import java.nio.channels.Channels;
import java.nio.channels.FileChannel;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.time.Duration;
import java.util.HexFormat;

/**
 * Streams a URL to a file while hashing it. Each failure becomes its own {@link ImageException}:
 * 404/410, other statuses, timeouts (connect, per read, and a whole-download deadline so a server
 * that trickles bytes cannot hold a VM forever), and oversize bodies.
 */
final class HttpDownloader {
  private final Duration connectTimeout;
  private final Duration readTimeout;
  private final Duration totalTimeout;
  private final long maxBytes;

  HttpDownloader(
      Duration connectTimeout, Duration readTimeout, Duration totalTimeout, long maxBytes) {
    this.connectTimeout = connectTimeout;
    this.readTimeout = readTimeout;
    this.totalTimeout = totalTimeout;
    this.maxBytes = maxBytes;
  }

  /** Downloads {@code uri} into {@code target} (created, synced) and returns its sha256 in hex. */
  String download(URI uri, Path target) throws ImageException {
    long deadline = System.nanoTime() + totalTimeout.toNanos();
    HttpURLConnection conn;
    try {
      conn = (HttpURLConnection) uri.toURL().openConnection();
    } catch (IOException | IllegalArgumentException e) {
      throw new ImageException.FetchFailed("cannot open " + uri + ": " + e.getMessage(), e);
    }
    conn.setConnectTimeout(millis(connectTimeout));
    conn.setReadTimeout(millis(readTimeout));
    conn.setInstanceFollowRedirects(true);
    try {
      int status = conn.getResponseCode();
      if (status == 404 || status == 410) {
        throw new ImageException.NotFound(uri + " answered HTTP " + status + " (not found)");
      }
      if (status < 200 || status > 299) {
        throw new ImageException.FetchFailed(uri + " answered HTTP " + status, null);
      }
      long declared = conn.getContentLengthLong();
      if (declared > maxBytes) {
        throw new ImageException.FetchFailed(
            uri + " is " + declared + " bytes, more than the image cache's " + maxBytes, null);
      }
      MessageDigest sha = sha256();
      try (InputStream in = conn.getInputStream();
          FileChannel ch = PrivateFiles.createNew(target);
          OutputStream out = Channels.newOutputStream(ch)) {
        byte[] buf = new byte[64 * 1024];
        long total = 0;
        for (int n; (n = in.read(buf)) >= 0; ) {
          total += n;
          if (total > maxBytes) {
            throw new ImageException.FetchFailed(
                uri + " sent more than the image cache's " + maxBytes + " bytes", null);
          }
          if (System.nanoTime() > deadline) {
            throw new ImageException.Timeout(
                uri + " did not finish downloading within " + totalTimeout, null);
          }
          sha.update(buf, 0, n);
          out.write(buf, 0, n);
        }
        if (declared >= 0 && total != declared) {
          throw new ImageException.FetchFailed(
              uri + " ended after " + total + " of " + declared + " bytes", null);
        }
        ch.force(true);
      }
      return HexFormat.of().formatHex(sha.digest());
    } catch (SocketTimeoutException e) {
      throw new ImageException.Timeout(
          uri
              + " timed out (connect "
              + connectTimeout
              + ", read "
              + readTimeout
              + "): "
              + e.getMessage(),
          e);
    } catch (IOException e) {
      throw new ImageException.FetchFailed("downloading " + uri + " failed: " + e, e);
    } finally {
      conn.disconnect();
    }
  }

  static MessageDigest sha256() {
    try {
      return MessageDigest.getInstance("SHA-256");
    } catch (NoSuchAlgorithmException e) {
      throw new AssertionError("every JDK has SHA-256", e);
    }
  }

  private static int millis(Duration d) {
    return (int) Math.min(Integer.MAX_VALUE, Math.max(1, d.toMillis()));
  }
}
