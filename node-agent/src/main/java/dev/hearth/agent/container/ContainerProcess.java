package dev.hearth.agent.container;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;

/**
 * The process a container VM's init runs: argv, environment, working directory and user, merged
 * from the image config and the spec by Docker's rules ({@link #merge}).
 *
 * @param argv the program and its arguments (at least the program)
 * @param env NAME=VALUE entries, one per name, in order
 * @param workingDir an absolute path
 * @param user {@code name|uid[:group|gid]}; empty is root
 */
public record ContainerProcess(
    List<String> argv, List<String> env, String workingDir, String user) {
  /** Docker's PATH for a container whose image and spec set none. */
  public static final String DEFAULT_PATH =
      "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin";

  public ContainerProcess {
    argv = List.copyOf(argv);
    env = List.copyOf(env);
  }

  /** What the spec overrides; empty lists and an empty working directory keep the image's. */
  public record Overrides(
      List<String> command,
      List<String> args,
      Map<String, String> env,
      Optional<String> workingDir) {
    public static final Overrides NONE =
        new Overrides(List.of(), List.of(), Map.of(), Optional.empty());

    public Overrides {
      command = List.copyOf(command);
      args = List.copyOf(args);
      env = java.util.Collections.unmodifiableMap(new LinkedHashMap<>(env));
    }
  }

  /**
   * Docker's (and a Pod's) rules: {@code command} replaces the image's Entrypoint and then its Cmd
   * is dropped too; {@code args} replace the Cmd; argv is the entrypoint followed by the arguments.
   * The spec's env entries replace the image's of the same name and the rest are appended in order;
   * PATH defaults to Docker's. The working directory is the spec's, else the image's, else {@code
   * /}; the user is the image's (empty: root).
   *
   * @throws ContainerException when neither gives a program to run
   */
  public static ContainerProcess merge(ImageConfig image, Overrides spec)
      throws ContainerException {
    List<String> entrypoint = spec.command().isEmpty() ? image.entrypoint() : spec.command();
    List<String> arguments;
    if (!spec.args().isEmpty()) {
      arguments = spec.args();
    } else if (!spec.command().isEmpty()) {
      arguments = List.of();
    } else {
      arguments = image.cmd();
    }
    List<String> argv = new ArrayList<>(entrypoint);
    argv.addAll(arguments);
    if (argv.isEmpty() || argv.getFirst().isEmpty()) {
      throw new ContainerException(
          "nothing to run: the image has no Entrypoint or Cmd, and spec.container gives no"
              + " command or args");
    }
    Map<String, String> env = new LinkedHashMap<>();
    for (String e : image.env()) {
      int eq = e.indexOf('=');
      if (eq > 0) {
        env.put(e.substring(0, eq), e.substring(eq + 1));
      } // an entry without NAME= is meaningless, as in Docker: dropped
    }
    env.putAll(spec.env());
    env.putIfAbsent("PATH", DEFAULT_PATH);
    List<String> pairs = new ArrayList<>();
    env.forEach((k, v) -> pairs.add(k + "=" + v));
    String cwd = spec.workingDir().or(image::workingDir).orElse("/");
    if (!cwd.startsWith("/")) {
      cwd = "/" + cwd; // Docker resolves a relative WorkingDir from the root
    }
    return new ContainerProcess(argv, pairs, cwd, image.user().orElse(""));
  }
}
