package dev.hearth.agent.spec;

import dev.hearth.agent.container.ContainerProcess;
import dev.hearth.agent.image.ImageRef;
import dev.hearth.agent.image.ImageReference;
import dev.hearth.api.v1alpha1.ContainerEnvVar;
import dev.hearth.api.v1alpha1.ContainerSpec;
import dev.hearth.api.v1alpha1.MicroVMSpec;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;

/**
 * A {@code spec.container} checked: the image (its root disk and its config) and what the spec
 * overrides of the image's defaults.
 *
 * @param config the image's config, for the defaults
 * @param overrides command, args, env and working directory from the spec
 */
public record ContainerPlan(ImageRef.OciConfig config, ContainerProcess.Overrides overrides) {

  /** The image as the VM's root disk. */
  public ImageRef.Oci rootfs() {
    return new ImageRef.Oci(config.reference(), Optional.empty(), config.pullSecrets());
  }

  /**
   * The plan of {@code spec.container}, empty without one.
   *
   * @param initrd whether the node's VMM loads an initrd (the container's init comes in one)
   */
  static Optional<ContainerPlan> of(MicroVMSpec spec, List<String> pullSecrets, boolean initrd)
      throws SpecRejectedException {
    if (spec.getContainer() == null) {
      return Optional.empty();
    }
    if (spec.getKernel() != null || spec.getInitrd() != null || spec.getRootfs() != null) {
      throw invalid(
          "spec.container runs on the node's own kernel and init with the image as its root"
              + " disk: spec.kernel, spec.initrd and spec.rootfs must not be set with it");
    }
    if (!initrd) {
      throw new SpecRejectedException(
          SpecRejectedException.UNSUPPORTED,
          "spec.container: this node's VMM cannot load an initrd");
    }
    return Optional.of(map(spec.getContainer(), pullSecrets));
  }

  /**
   * Re-checks {@code c} as the CRD's schema and rules do (a manifest for {@code hearth run}, or an
   * API server without them, must not reach the guest with anything else).
   */
  static ContainerPlan map(ContainerSpec c, List<String> pullSecrets) throws SpecRejectedException {
    String f = "spec.container";
    if (c.getImage() == null || c.getImage().isEmpty()) {
      throw invalid(f + ".image is required");
    }
    ImageReference ref;
    try {
      ref = ImageReference.parse(c.getImage());
    } catch (IllegalArgumentException e) {
      throw invalid(f + ".image: " + e.getMessage());
    }
    List<String> command = strings(c.getCommand(), f + ".command");
    List<String> args = strings(c.getArgs(), f + ".args");
    Map<String, String> env = new LinkedHashMap<>();
    List<ContainerEnvVar> vars = c.getEnv() == null ? List.of() : c.getEnv();
    if (vars.size() > ContainerSpec.MAX_ENV) {
      throw invalid(f + ".env has more than " + ContainerSpec.MAX_ENV + " entries");
    }
    for (int i = 0; i < vars.size(); i++) {
      ContainerEnvVar v = vars.get(i);
      String name = v.getName();
      String value = v.getValue() == null ? "" : v.getValue();
      if (name == null
          || name.isEmpty()
          || name.length() > ContainerSpec.MAX_ENV_NAME
          || !name.matches("[!-<>-~]+")) {
        throw invalid(
            f + ".env[" + i + "].name must be printable ASCII without spaces or '=', 1 to 256");
      }
      if (value.length() > ContainerSpec.MAX_ENV_VALUE || value.indexOf('\0') >= 0) {
        throw invalid(f + ".env[" + i + "].value is too long or holds a NUL character");
      }
      if (env.put(name, value) != null) {
        throw invalid(f + ".env names must be unique: " + name + " is there twice");
      }
    }
    Optional<String> cwd = Optional.ofNullable(c.getWorkingDir());
    if (cwd.isPresent()) {
      String w = cwd.get();
      if (!w.startsWith("/")
          || w.length() > ContainerSpec.MAX_WORKING_DIR
          || w.chars().anyMatch(ch -> ch < 0x20 || ch == 0x7f)) {
        throw invalid(
            f
                + ".workingDir must be an absolute path of at most 1024 characters, no control"
                + " characters");
      }
    }
    return new ContainerPlan(
        new ImageRef.OciConfig(ref, pullSecrets),
        new ContainerProcess.Overrides(command, args, env, cwd));
  }

  private static List<String> strings(List<String> list, String field)
      throws SpecRejectedException {
    List<String> l = list == null ? List.of() : list;
    if (l.size() > ContainerSpec.MAX_ARGS) {
      throw invalid(field + " has more than " + ContainerSpec.MAX_ARGS + " entries");
    }
    for (int i = 0; i < l.size(); i++) {
      String s = l.get(i);
      if (s == null || s.length() > ContainerSpec.MAX_ARG_LENGTH || s.indexOf('\0') >= 0) {
        throw invalid(
            field
                + "["
                + i
                + "] must be a string of at most "
                + ContainerSpec.MAX_ARG_LENGTH
                + " characters without NUL characters");
      }
    }
    return List.copyOf(l);
  }

  private static SpecRejectedException invalid(String message) {
    return new SpecRejectedException(SpecRejectedException.INVALID, message);
  }
}
