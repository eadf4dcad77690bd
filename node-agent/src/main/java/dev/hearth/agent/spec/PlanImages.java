package dev.hearth.agent.spec;

import dev.hearth.agent.image.ImageException;
import dev.hearth.agent.image.ImageRef;
import java.nio.file.Path;

/**
 * Where a plan's images come from, injected: the node agent resolves under its images root and
 * cache for the VM's uid; {@code hearth run} under its own images folder, naming the manifest's
 * field in messages. Everything else on the way to the VMM is shared.
 */
@FunctionalInterface
public interface PlanImages {
  /**
   * A readable local path for the image that the spec declares at {@code field} ({@code
   * spec.kernel.source}, {@code spec.drives[1].source}).
   */
  Path resolve(String field, ImageRef source) throws ImageException;
}
