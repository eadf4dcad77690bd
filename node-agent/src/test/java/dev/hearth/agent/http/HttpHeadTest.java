package dev.hearth.agent.http;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.ByteArrayInputStream;
import java.nio.charset.StandardCharsets;
import org.junit.jupiter.api.Test;

/** Request heads from anyone on the node's network: read strictly and within bounds. */
class HttpHeadTest {
  private static HttpHead read(String head) throws Exception {
    return HttpHead.read(new ByteArrayInputStream(head.getBytes(StandardCharsets.ISO_8859_1)));
  }

  private static int refused(String head) {
    try {
      read(head);
    } catch (HttpException e) {
      return e.status();
    } catch (Exception e) {
      throw new AssertionError(e);
    }
    throw new AssertionError("accepted: " + head);
  }

  @Test
  void aRequestIsReadWithLowerCaseHeaderNames() throws Exception {
    HttpHead h =
        read("GET /vms/a/b/console?follow=true HTTP/1.1\r\nAuthorization: Bearer x\r\n\r\n");
    assertThat(h.method()).isEqualTo("GET");
    assertThat(h.path()).isEqualTo("/vms/a/b/console");
    assertThat(h.flag("follow")).isTrue();
    assertThat(h.header("AUTHORIZATION")).hasValue("Bearer x");
  }

  @Test
  void oversizedOrMalformedHeadsAreRefused() {
    assertThat(refused("GET /" + "a".repeat(HttpHead.MAX_LINE) + " HTTP/1.1\r\n\r\n"))
        .isEqualTo(431);
    StringBuilder many = new StringBuilder("GET / HTTP/1.1\r\n");
    for (int i = 0; i <= HttpHead.MAX_HEADERS; i++) {
      many.append("X-").append(i).append(": v\r\n");
    }
    assertThat(refused(many + "\r\n")).isEqualTo(431);
    StringBuilder big = new StringBuilder("GET / HTTP/1.1\r\n");
    for (int i = 0; i < 8; i++) {
      big.append("X-").append(i).append(": ").append("v".repeat(5000)).append("\r\n");
    }
    assertThat(refused(big + "\r\n")).isEqualTo(431);
    assertThat(refused("GET / HTTP/1.1\r\nAuthorization: a\r\nauthorization: b\r\n\r\n"))
        .isEqualTo(400);
    assertThat(refused("GET / HTTP/1.1\r\nContent-Length: 5\r\n\r\nhello")).isEqualTo(400);
    assertThat(refused("GET / HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n")).isEqualTo(400);
    assertThat(refused("GET http://evil/ HTTP/1.1\r\n\r\n")).isEqualTo(400);
    assertThat(refused("GET / HTTP/1.1\r\nX: a\u0000b\r\n\r\n")).isEqualTo(400);
    assertThat(refused("GET / HTTP/1.1\r\nno colon\r\n\r\n")).isEqualTo(400);
    assertThat(refused("GET / HTTP/1.1\r\nX: unterminated")).isEqualTo(400);
  }
}
