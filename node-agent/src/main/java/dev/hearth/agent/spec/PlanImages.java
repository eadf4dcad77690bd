package dev.hearth.agent.spec;

import dev.hearth.agent.image.ImageException;
import dev.hearth.agent.image.ImageRef;
import dev.hearth.agent.image.ImageReference;
import java.nio.file.Path;

/**
 * Where a plan's images come from, injected: the node agent resolves under its images root and
 * cache for the VM's uid; {@code hearth run} under its own images folder, naming the manifest's
 * field in messages. Everything else on the way to the VMM is shared.
 */
public interface PlanImages {
  /**
   * A readable local path for the image that the spec declares at {@code field} ({@code
   * spec.kernel.source}, {@code spec.drives[1].source}).
   */
  Path resolve(String field, ImageRef source) throws ImageException;

  /**
   * The reference of the image that the spec declares at {@code field}, pinned to the manifest
   * digest its tag names now (the reference itself when it pins a digest), so that every pull of
   * one launch gets the same image.
   */
  ImageReference pin(String field, ImageRef.OciConfig image) throws ImageException;
}
