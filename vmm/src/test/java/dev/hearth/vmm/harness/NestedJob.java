package dev.hearth.vmm.harness;

import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;

/**
 * A command to run inside L1, with what it needs there. Immutable; the {@code with*} methods return
 * changed copies.
 *
 * @param command one word is a shell command line; several are an argument vector
 * @param adds files and directories made visible inside L1 at the same absolute paths
 * @param guest also build and add the minimal Linux test guest ({@code vmm/guest}); the job then
 *     finds its paths through the {@code HEARTH_GUEST_PROPERTIES} environment variable
 * @param timeout limit for the run, counted from L1's start (cached builds before it not counted)
 * @param bootTimeout limit for L1 to reach a ready {@code /dev/kvm}
 * @param env environment variables for the command
 * @param cwd the command's working directory inside L1, or null for the script's default
 * @param cpus L1's vCPUs
 * @param net give L1 a NIC on QEMU's user network, where {@code 10.0.2.2} is this machine's
 *     loopback (a test control plane's API server, say)
 */
public record NestedJob(
    List<String> command,
    List<Path> adds,
    boolean guest,
    Duration timeout,
    Duration bootTimeout,
    Map<String, String> env,
    Path cwd,
    int cpus,
    boolean net) {

  public NestedJob {
    command = List.copyOf(command);
    adds = List.copyOf(adds);
    env = Map.copyOf(env);
    Objects.requireNonNull(timeout, "timeout");
    Objects.requireNonNull(bootTimeout, "bootTimeout");
    if (command.isEmpty()) {
      throw new IllegalArgumentException("a nested job needs a command");
    }
    if (cpus < 1) {
      throw new IllegalArgumentException("L1 needs at least 1 vCPU, got " + cpus);
    }
    for (Path p : adds) {
      if (!p.isAbsolute()) {
        throw new IllegalArgumentException("added paths must be absolute: " + p);
      }
    }
  }

  /** A job running {@code command} with the defaults: 10 min, 2 min to boot, 2 vCPUs. */
  public static NestedJob of(String... command) {
    return new NestedJob(
        List.of(command),
        List.of(),
        false,
        Duration.ofMinutes(10),
        Duration.ofMinutes(2),
        Map.of(),
        null,
        2,
        false);
  }

  public NestedJob withAdds(List<Path> more) {
    List<Path> all = new ArrayList<>(adds);
    for (Path p : more) {
      all.add(p.toAbsolutePath().normalize());
    }
    return new NestedJob(command, all, guest, timeout, bootTimeout, env, cwd, cpus, net);
  }

  public NestedJob withAdd(Path path) {
    return withAdds(List.of(path));
  }

  public NestedJob withGuest() {
    return new NestedJob(command, adds, true, timeout, bootTimeout, env, cwd, cpus, net);
  }

  public NestedJob withTimeout(Duration limit) {
    return new NestedJob(command, adds, guest, limit, bootTimeout, env, cwd, cpus, net);
  }

  public NestedJob withBootTimeout(Duration limit) {
    return new NestedJob(command, adds, guest, timeout, limit, env, cwd, cpus, net);
  }

  public NestedJob withEnv(String name, String value) {
    Map<String, String> all = new LinkedHashMap<>(env);
    all.put(name, value);
    return new NestedJob(command, adds, guest, timeout, bootTimeout, all, cwd, cpus, net);
  }

  public NestedJob withCwd(Path dir) {
    return new NestedJob(command, adds, guest, timeout, bootTimeout, env, dir, cpus, net);
  }

  public NestedJob withCpus(int count) {
    return new NestedJob(command, adds, guest, timeout, bootTimeout, env, cwd, count, net);
  }

  /** This job in an L1 with a network interface: see {@link #net}. */
  public NestedJob withNet() {
    return new NestedJob(command, adds, guest, timeout, bootTimeout, env, cwd, cpus, true);
  }

  /** The arguments of {@code run-in-l1.sh} for this job, writing its result to {@code result}. */
  List<String> scriptArguments(Path result) {
    List<String> args = new ArrayList<>();
    args.add("--timeout");
    args.add(Long.toString(Math.max(1, timeout.toSeconds())));
    args.add("--boot-timeout");
    args.add(Long.toString(Math.max(1, bootTimeout.toSeconds())));
    args.add("--cpus");
    args.add(Integer.toString(cpus));
    args.add("--result");
    args.add(result.toString());
    for (Path p : adds) {
      args.add("--add");
      args.add(p.toString());
    }
    if (guest) {
      args.add("--with-guest");
    }
    env.entrySet().stream()
        .sorted(Map.Entry.comparingByKey())
        .forEach(
            e -> {
              args.add("--env");
              args.add(e.getKey() + "=" + e.getValue());
            });
    if (cwd != null) {
      args.add("--cwd");
      args.add(cwd.toString());
    }
    if (net) {
      args.add("--net");
    }
    args.add("--");
    args.addAll(command);
    return args;
  }
}
