package dev.hearth.agent.testing;

import dev.hearth.agent.image.Destinations;
import dev.hearth.agent.image.ImageCache;
import dev.hearth.agent.image.NodeImages;
import dev.hearth.agent.image.OciSettings;
import dev.hearth.testkit.Registry;
import io.micrometer.core.instrument.MeterRegistry;
import java.nio.file.Path;
import java.util.Set;

/** Image caches for tests that pull from a loopback registry. */
public final class TestImageCaches {
  private TestImageCaches() {}

  /**
   * A 1 GiB cache in {@code cache} over the images root {@code images}, reaching {@code registry}
   * over plain http on loopback (every destination allowed).
   */
  public static ImageCache forRegistry(
      Path cache, Path images, Registry registry, MeterRegistry meters) {
    return new ImageCache(
        cache,
        new NodeImages(images),
        1L << 30,
        ImageCache.Timeouts.DEFAULT,
        Destinations.ANY,
        OciSettings.DEFAULT.withPlainHttp(Set.of(registry.host())),
        meters);
  }
}
