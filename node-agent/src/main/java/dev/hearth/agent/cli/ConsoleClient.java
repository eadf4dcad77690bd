package dev.hearth.agent.cli;

import dev.hearth.agent.tls.CertificatePin;
import dev.hearth.agent.tls.TlsException;
import dev.hearth.api.v1alpha1.ConsoleEndpoint;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.io.PrintStream;
import java.net.URI;
import java.net.URLEncoder;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.net.http.WebSocket;
import java.net.http.WebSocketHandshakeException;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.Arrays;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.ExecutionException;

/**
 * A client of one VM's console on its node agent: HTTPS with the agent's certificate pinned by
 * hash, the user's bearer token. {@link #attach} is interactive (a WebSocket: output to the
 * terminal, keystrokes to the guest, Ctrl-] detaches); {@link #follow} only reads.
 */
final class ConsoleClient {
  /** Ctrl-], telnet's escape. */
  static final int DETACH = 0x1d;

  private static final Duration CONNECT_TIMEOUT = Duration.ofSeconds(10);

  private final URI uri;
  private final String vm;
  private final String token;
  private final HttpClient http;

  ConsoleClient(ConsoleEndpoint endpoint, String namespace, String name, String token) {
    this.vm = namespace + "/" + name;
    this.token = token;
    try {
      this.uri =
          URI.create(
              endpoint.getUrl().replaceAll("/+$", "")
                  + "/vms/"
                  + URLEncoder.encode(namespace, StandardCharsets.UTF_8)
                  + "/"
                  + URLEncoder.encode(name, StandardCharsets.UTF_8)
                  + "/console");
      this.http =
          HttpClient.newBuilder()
              .connectTimeout(CONNECT_TIMEOUT)
              .sslContext(new CertificatePin(endpoint.getCertificateSha256()).clientContext())
              .build();
    } catch (IllegalArgumentException | TlsException e) {
      throw new UserFacingException(
          UserFacingException.UNAVAILABLE,
          "MicroVM " + vm + " publishes an unusable console endpoint: " + e.getMessage());
    }
  }

  /** Prints the console's output until the VM is removed (or the user interrupts). */
  void follow(OutputStream out) throws InterruptedException {
    HttpResponse<InputStream> r;
    try {
      r =
          http.send(
              HttpRequest.newBuilder(URI.create(uri + "?follow=true"))
                  .header("Authorization", "Bearer " + token)
                  .GET()
                  .build(),
              HttpResponse.BodyHandlers.ofInputStream());
    } catch (IOException e) {
      throw unreachable(e);
    }
    try (InputStream body = r.body()) {
      if (r.statusCode() != 200) {
        throw refused(r.statusCode(), new String(body.readAllBytes(), StandardCharsets.UTF_8));
      }
      byte[] buf = new byte[8192];
      for (int n; (n = body.read(buf)) >= 0; ) {
        out.write(buf, 0, n);
        out.flush();
      }
    } catch (IOException e) {
      throw new UserFacingException(
          UserFacingException.UNAVAILABLE, "the console stream broke: " + e.getMessage());
    }
  }

  /**
   * Connects interactively: the guest's output goes to {@code out}, {@code in} goes to the guest
   * until Ctrl-] (or end of input, after which output still flows until the VM goes). Notices go to
   * {@code notices}.
   */
  void attach(InputStream in, OutputStream out, PrintStream notices) throws InterruptedException {
    CompletableFuture<String> ended = new CompletableFuture<>();
    WebSocket ws;
    try {
      ws =
          http.newWebSocketBuilder()
              .connectTimeout(CONNECT_TIMEOUT)
              .header("Authorization", "Bearer " + token)
              .buildAsync(
                  URI.create(uri.toString().replaceFirst("^https", "wss")), listener(out, ended))
              .get();
    } catch (ExecutionException e) {
      if (e.getCause() instanceof WebSocketHandshakeException h) {
        Object body = h.getResponse().body();
        throw refused(h.getResponse().statusCode(), body == null ? "" : body.toString());
      }
      throw unreachable(e.getCause());
    }
    Terminal terminal = Terminal.raw(in == System.in);
    try {
      notices.print("[hearth: attached to " + vm + "; detach with Ctrl-]]\r\n");
      notices.flush();
      Thread.ofPlatform()
          .daemon()
          .name("hearth-console-stdin")
          .start(() -> pumpInput(in, ws, ended));
      String why = ended.get();
      notices.print("\r\n[hearth: " + why + "]\r\n");
      notices.flush();
    } catch (ExecutionException e) {
      throw new UserFacingException(
          UserFacingException.UNAVAILABLE,
          "the console connection broke: " + e.getCause().getMessage());
    } finally {
      terminal.restore();
      ws.abort();
    }
  }

  private static void pumpInput(InputStream in, WebSocket ws, CompletableFuture<String> ended) {
    byte[] buf = new byte[4096];
    try {
      int n;
      while (!ended.isDone() && (n = in.read(buf)) >= 0) {
        int detach = indexOf(buf, n, DETACH);
        int send = detach < 0 ? n : detach;
        if (send > 0) {
          // Waiting for each send to complete lets a guest that reads slowly slow the sender.
          ws.sendBinary(ByteBuffer.wrap(Arrays.copyOf(buf, send)), true).get();
        }
        if (detach >= 0) {
          ws.sendClose(WebSocket.NORMAL_CLOSURE, "detached").get();
          ended.complete("detached");
          return;
        }
      }
    } catch (IOException | ExecutionException e) {
      ended.complete("input ended: " + e.getMessage());
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
  }

  private static int indexOf(byte[] b, int n, int value) {
    for (int i = 0; i < n; i++) {
      if (b[i] == value) {
        return i;
      }
    }
    return -1;
  }

  private static WebSocket.Listener listener(OutputStream out, CompletableFuture<String> ended) {
    return new WebSocket.Listener() {
      @Override
      public CompletionStage<?> onBinary(WebSocket ws, ByteBuffer data, boolean last) {
        try {
          byte[] b = new byte[data.remaining()];
          data.get(b);
          out.write(b);
          out.flush();
        } catch (IOException e) {
          ended.completeExceptionally(e);
        }
        ws.request(1);
        return null;
      }

      @Override
      public CompletionStage<?> onText(WebSocket ws, CharSequence data, boolean last) {
        return onBinary(ws, StandardCharsets.UTF_8.encode(data.toString()), last);
      }

      @Override
      public CompletionStage<?> onClose(WebSocket ws, int status, String reason) {
        ended.complete(reason == null || reason.isEmpty() ? "connection closed" : reason);
        return null;
      }

      @Override
      public void onError(WebSocket ws, Throwable error) {
        ended.completeExceptionally(error);
      }
    };
  }

  private UserFacingException refused(int status, String body) {
    String detail = body.strip().isEmpty() ? "HTTP " + status : body.strip();
    return switch (status) {
      case 401 ->
          new UserFacingException(
              UserFacingException.BAD_INPUT,
              "the node agent does not accept your token (401): " + detail);
      case 403 ->
          new UserFacingException(
              UserFacingException.BAD_INPUT,
              "you may not use the console of "
                  + vm
                  + " (403; needs microvms/console in group hearth.dev): "
                  + detail);
      case 404 ->
          new UserFacingException(
              UserFacingException.UNAVAILABLE,
              "the node agent has no console for " + vm + " (404): " + detail);
      default ->
          new UserFacingException(
              UserFacingException.UNAVAILABLE, "the node agent answered " + status + ": " + detail);
    };
  }

  private UserFacingException unreachable(Throwable e) {
    return new UserFacingException(
        UserFacingException.UNAVAILABLE,
        "cannot reach the node agent of " + vm + " at " + uri.getAuthority() + ": " + e);
  }
}
