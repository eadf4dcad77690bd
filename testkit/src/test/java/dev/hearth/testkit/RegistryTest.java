package dev.hearth.testkit;

import static org.assertj.core.api.Assertions.assertThat;

import java.net.HttpURLConnection;
import java.net.URI;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Base64;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class RegistryTest {
  @TempDir Path tmp;

  private OciLayout layout(String content) {
    return OciLayout.write(
        tmp.resolve("layout-" + content),
        "latest",
        List.of(new OciLayout.Layer().file("hello.txt", content, 0644, 0, 0)),
        List.of("/bin/sh"),
        List.of(),
        List.of(),
        null,
        null);
  }

  @Test
  void pushedImageIsServedByTheDigestSkopeoReports() throws Exception {
    try (Registry r = Registry.startPublic()) {
      String digest = r.push(layout("one"), "test/hello", "v1");
      assertThat(digest).matches("sha256:[0-9a-f]{64}");
      HttpURLConnection c = open(r, "/v2/test/hello/manifests/v1", null);
      assertThat(c.getResponseCode()).isEqualTo(200);
      assertThat(c.getHeaderField("Docker-Content-Digest")).isEqualTo(digest);
      // Moving the tag gives another digest.
      String moved = r.push(layout("two"), "test/hello", "v1");
      assertThat(moved).isNotEqualTo(digest);
      assertThat(Files.exists(r.blobFile(digest))).isTrue();
    }
  }

  @Test
  void privateRegistryRefusesRequestsWithoutCredentials() throws Exception {
    try (Registry r = Registry.startPrivate("alice", "s3cret")) {
      String digest = r.push(layout("private"), "team/app", "v1");
      assertThat(open(r, "/v2/team/app/manifests/v1", null).getResponseCode()).isEqualTo(401);
      HttpURLConnection ok = open(r, "/v2/team/app/manifests/" + digest, "alice:s3cret");
      assertThat(ok.getResponseCode()).isEqualTo(200);
      assertThat(open(r, "/v2/team/app/manifests/v1", "alice:wrong").getResponseCode())
          .isEqualTo(401);
    }
  }

  private static HttpURLConnection open(Registry r, String path, String basic) throws Exception {
    HttpURLConnection c =
        (HttpURLConnection) URI.create("http://" + r.host() + path).toURL().openConnection();
    c.setRequestProperty("Accept", "application/vnd.oci.image.manifest.v1+json");
    if (basic != null) {
      c.setRequestProperty(
          "Authorization", "Basic " + Base64.getEncoder().encodeToString(basic.getBytes()));
    }
    return c;
  }
}
