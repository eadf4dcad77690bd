package dev.hearth.agent.bench;

import static org.assertj.core.api.Assertions.assertThat;

import dev.hearth.agent.image.Destinations;
import dev.hearth.agent.image.ImageCache;
import dev.hearth.agent.image.ImageRef;
import dev.hearth.agent.image.ImageReference;
import dev.hearth.agent.image.NodeImages;
import dev.hearth.agent.image.OciSettings;
import dev.hearth.testkit.OciLayout;
import dev.hearth.testkit.Registry;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Comparator;
import java.util.List;
import java.util.Optional;
import java.util.Random;
import java.util.Set;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Pulling an image into a root disk, Hearth against the tools doing the same work, in one run
 * against one local registry: cold (pull, verify, unpack, ext4) against {@code skopeo copy}, {@code
 * tar -x} of each layer and {@code mke2fs -d}; warm (the tag resolved, the cached disk reused)
 * against {@code skopeo inspect} resolving the tag. Not part of {@code verify}: run by {@code
 * node-agent/src/bench/run-oci-bench.sh}. The baseline does less than Hearth: tar applies no
 * whiteouts and checks no diff_id, and the disk holds the host's view of owners.
 */
class OciPullBench {
  private static final int ROUNDS = Integer.getInteger("hearth.bench.rounds", 3);
  private static final int FILES = Integer.getInteger("hearth.bench.files", 2000);
  @TempDir Path tmp;

  @Test
  void coldAndWarmPullAgainstSkopeoAndMke2fs() throws Exception {
    try (Registry registry = Registry.startPublic()) {
      registry.push(image(), "bench/app", "v1");
      String ref = registry.host() + "/bench/app:v1";
      ImageRef.Oci source =
          new ImageRef.Oci(ImageReference.parse(ref), Optional.empty(), List.of());
      long[] cold = new long[ROUNDS];
      long[] warm = new long[ROUNDS];
      long[] toolsCold = new long[ROUNDS];
      long[] toolsWarm = new long[ROUNDS];
      for (int i = 0; i < ROUNDS; i++) {
        Path root = tmp.resolve("hearth-" + i);
        ImageCache cache =
            new ImageCache(
                root.resolve("cache"),
                new NodeImages(root.resolve("images")),
                8L << 30,
                ImageCache.Timeouts.DEFAULT,
                Destinations.ANY,
                OciSettings.DEFAULT.withPlainHttp(Set.of(registry.host())),
                new SimpleMeterRegistry());
        long t0 = System.nanoTime();
        Path disk = cache.resolve(source, "vm");
        cold[i] = System.nanoTime() - t0;
        t0 = System.nanoTime();
        assertThat(cache.resolve(source, "vm-2")).isEqualTo(disk);
        warm[i] = System.nanoTime() - t0;
        long diskBytes = Files.size(disk); // the baseline's disk gets the same size
        delete(root);

        Path work = tmp.resolve("tools-" + i);
        Files.createDirectories(work.resolve("root"));
        t0 = System.nanoTime();
        run(
            work,
            "skopeo",
            "copy",
            "--quiet",
            "--src-tls-verify=false",
            "docker://" + ref,
            "oci:" + work.resolve("layout") + ":latest");
        for (String layer : layers(work.resolve("layout"))) {
          run(
              work,
              "tar",
              "-xzpf",
              layer,
              "-C",
              work.resolve("root").toString(),
              "--numeric-owner");
        }
        run(
            work,
            "mke2fs",
            "-q",
            "-F",
            "-t",
            "ext4",
            "-d",
            work.resolve("root").toString(),
            work.resolve("disk.ext4").toString(),
            (diskBytes / 1024) + "k");
        toolsCold[i] = System.nanoTime() - t0;
        t0 = System.nanoTime();
        run(
            work,
            "skopeo",
            "inspect",
            "--tls-verify=false",
            "--format",
            "{{.Digest}}",
            "docker://" + ref);
        toolsWarm[i] = System.nanoTime() - t0;
        delete(work);
      }
      System.out.printf(
          "oci-bench: %d files; cold pull+unpack+ext4 %.0f ms vs skopeo copy+tar+mke2fs -d %.0f ms"
              + " (ratio %.2f); warm start %.1f ms vs skopeo inspect %.1f ms (ratio %.2f);"
              + " medians of %d%n",
          FILES,
          ms(median(cold)),
          ms(median(toolsCold)),
          (double) median(cold) / median(toolsCold),
          ms(median(warm)),
          ms(median(toolsWarm)),
          (double) median(warm) / median(toolsWarm),
          ROUNDS);
    }
  }

  /** Two layers of incompressible files, with hard links, a symlink and whiteouts. */
  private OciLayout image() {
    Random random = new Random(42);
    OciLayout.Layer base = new OciLayout.Layer();
    for (int i = 0; i < FILES; i++) {
      byte[] content = new byte[1024 + random.nextInt(32 * 1024)];
      random.nextBytes(content);
      base.file(
          "usr/lib/d" + (i % 50) + "/f" + i,
          new String(content, StandardCharsets.ISO_8859_1),
          i % 7 == 0 ? 0755 : 0644,
          i % 3 == 0 ? 1000 : 0,
          0);
      if (i % 100 == 0) {
        base.hardlink("usr/lib/d" + (i % 50) + "/link" + i, "usr/lib/d" + (i % 50) + "/f" + i);
      }
    }
    base.symlink("lib", "usr/lib");
    OciLayout.Layer upper = new OciLayout.Layer();
    for (int i = 0; i < FILES / 10; i++) {
      upper.whiteout("usr/lib/d" + (i % 50) + "/f" + i);
      upper.file("etc/app/c" + i, "setting " + i + "\n", 0644, 0, 0);
    }
    return OciLayout.write(
        tmp.resolve("layout"),
        "latest",
        List.of(base, upper),
        List.of("/bin/sh"),
        List.of(),
        List.of(),
        null,
        null);
  }

  private static List<String> layers(Path layout) throws IOException {
    // The layout's one manifest lists the layers bottom first; find it by its media type.
    var json = new com.fasterxml.jackson.databind.ObjectMapper();
    var index = json.readTree(layout.resolve("index.json").toFile());
    String manifest = index.get("manifests").get(0).get("digest").asText().substring(7);
    var m = json.readTree(layout.resolve("blobs/sha256").resolve(manifest).toFile());
    List<String> out = new ArrayList<>();
    for (var l : m.get("layers")) {
      out.add(
          layout.resolve("blobs/sha256").resolve(l.get("digest").asText().substring(7)).toString());
    }
    return out;
  }

  private static void run(Path dir, String... cmd) throws Exception {
    Process p =
        new ProcessBuilder(cmd)
            .directory(dir.toFile())
            .redirectErrorStream(true)
            .redirectOutput(ProcessBuilder.Redirect.DISCARD)
            .start();
    assertThat(p.waitFor(10, TimeUnit.MINUTES)).isTrue();
    assertThat(p.exitValue()).as(String.join(" ", cmd)).isZero();
  }

  private static long median(long[] values) {
    long[] v = values.clone();
    Arrays.sort(v);
    return v[v.length / 2];
  }

  private static double ms(long nanos) {
    return nanos / 1e6;
  }

  private static void delete(Path dir) throws IOException {
    try (Stream<Path> walk = Files.walk(dir)) {
      for (Path p : walk.sorted(Comparator.reverseOrder()).toList()) {
        Files.delete(p);
      }
    }
  }
}
