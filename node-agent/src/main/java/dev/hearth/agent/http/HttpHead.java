package dev.hearth.agent.http;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.net.URI;
import java.net.URISyntaxException;
import java.nio.charset.StandardCharsets;
import java.util.LinkedHashMap;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;

/**
 * The request line and headers of one HTTP/1.1 request, read strictly and within bounds: the caller
 * is anyone on the node's network, so lines, header count and total size are capped, and a header
 * repeated is refused rather than guessed at.
 *
 * @param headers by lower-case name
 */
record HttpHead(String method, String path, String query, Map<String, String> headers) {
  static final int MAX_LINE = 8 * 1024;
  static final int MAX_TOTAL = 32 * 1024;
  static final int MAX_HEADERS = 64;

  /** The header's value, if sent. */
  Optional<String> header(String name) {
    return Optional.ofNullable(headers.get(name.toLowerCase(Locale.ROOT)));
  }

  /** Whether the query has {@code name}, {@code name=true} or {@code name=1}. */
  boolean flag(String name) {
    if (query == null) {
      return false;
    }
    for (String p : query.split("&")) {
      if (p.equals(name) || p.equals(name + "=true") || p.equals(name + "=1")) {
        return true;
      }
    }
    return false;
  }

  /** Reads a request head; a body is never read (the agent serves no request with one). */
  static HttpHead read(InputStream in) throws IOException, HttpException {
    int[] budget = {MAX_TOTAL};
    String requestLine = line(in, budget);
    if (requestLine == null) {
      throw new HttpException(400, "no request");
    }
    String[] parts = requestLine.split(" ", -1);
    if (parts.length != 3 || !parts[2].startsWith("HTTP/1.")) {
      throw new HttpException(400, "not an HTTP/1.x request line");
    }
    if (!parts[0].matches("[A-Z]{1,16}")) {
      throw new HttpException(400, "bad method");
    }
    URI uri;
    try {
      uri = new URI(parts[1]);
    } catch (URISyntaxException e) {
      throw new HttpException(400, "bad request target");
    }
    if (uri.isAbsolute() || uri.getRawPath() == null || !uri.getRawPath().startsWith("/")) {
      throw new HttpException(400, "the request target must be an absolute path");
    }
    Map<String, String> headers = new LinkedHashMap<>();
    while (true) {
      String h = line(in, budget);
      if (h == null) {
        throw new HttpException(400, "the request ended inside its headers");
      }
      if (h.isEmpty()) {
        break;
      }
      int colon = h.indexOf(':');
      if (colon <= 0 || !h.substring(0, colon).matches("[!#$%&'*+.^_`|~0-9A-Za-z-]+")) {
        throw new HttpException(400, "malformed header line");
      }
      String name = h.substring(0, colon).toLowerCase(Locale.ROOT);
      if (headers.size() >= MAX_HEADERS) {
        throw new HttpException(431, "more than " + MAX_HEADERS + " headers");
      }
      if (headers.putIfAbsent(name, h.substring(colon + 1).strip()) != null) {
        throw new HttpException(400, "header " + name + " sent twice");
      }
    }
    if (headers.containsKey("transfer-encoding")
        || !headers.getOrDefault("content-length", "0").equals("0")) {
      throw new HttpException(400, "the agent takes no request body");
    }
    return new HttpHead(parts[0], uri.getPath(), uri.getRawQuery(), Map.copyOf(headers));
  }

  /** One CRLF- (or LF-) terminated line of visible ASCII; null at end of stream before any byte. */
  private static String line(InputStream in, int[] budget) throws IOException, HttpException {
    ByteArrayOutputStream b = new ByteArrayOutputStream();
    while (true) {
      int c = in.read();
      if (c < 0) {
        if (b.size() == 0) {
          return null;
        }
        throw new HttpException(400, "the request ended inside a line");
      }
      if (--budget[0] < 0) {
        throw new HttpException(431, "request head over " + MAX_TOTAL + " bytes");
      }
      if (c == '\n') {
        byte[] bytes = b.toByteArray();
        int n =
            bytes.length > 0 && bytes[bytes.length - 1] == '\r' ? bytes.length - 1 : bytes.length;
        return new String(bytes, 0, n, StandardCharsets.ISO_8859_1);
      }
      if ((c < 0x20 && c != '\t' && c != '\r') || c == 0x7f) {
        throw new HttpException(400, "control character in the request head");
      }
      if (b.size() >= MAX_LINE) {
        throw new HttpException(431, "request line or header over " + MAX_LINE + " bytes");
      }
      b.write(c);
    }
  }
}
