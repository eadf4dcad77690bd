package dev.hearth.e2e.node;

import dev.hearth.api.v1alpha1.RunState;
import dev.hearth.e2e.ClusterTools;
import dev.hearth.e2e.Command;
import dev.hearth.e2e.ProjectRoot;
import dev.hearth.testkit.ControlPlane;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * A real Kubernetes node on this host, joined to a control plane of its own: {@code
 * test-cluster/control-plane.sh} through the testkit, then {@code test-cluster/node.sh up}
 * (containerd, kubelet, kube-scheduler, kube-proxy). {@link #close()} runs {@code node.sh down},
 * which puts the host back as it was and fails when it is not, then stops the control plane.
 */
final class RealNode implements AutoCloseable {
  private static final Path ROOT = ProjectRoot.find();
  private static final Path NODE_SH = ROOT.resolve("test-cluster/node.sh");
  private static final Path IMAGES_SH = ROOT.resolve("test-cluster/images.sh");

  private final ControlPlane plane;
  private final Path dir;
  private final String name;

  private RealNode(ControlPlane plane, Path dir, String name) {
    this.plane = plane;
    this.dir = dir;
    this.name = name;
  }

  /** Starts a control plane in {@code dir}, then the node; both stop with {@link #close()}. */
  static RealNode start(Path dir) {
    ControlPlane plane = Timed.step("control plane", () -> ControlPlane.start(dir));
    try {
      Timed.step(
          "node up",
          () ->
              script(
                  NODE_SH,
                  "up",
                  dir.toString(),
                  "--owner",
                  Long.toString(ProcessHandle.current().pid())));
      String name = plane.client().nodes().list().getItems().getFirst().getMetadata().getName();
      return new RealNode(plane, dir, name);
    } catch (RuntimeException | AssertionError e) {
      script(NODE_SH, "down", dir.toString());
      plane.close();
      throw e;
    }
  }

  /** The control plane the node belongs to. */
  ControlPlane plane() {
    return plane;
  }

  /** The node's name (the host's). */
  String name() {
    return name;
  }

  /**
   * The operator's and agent's images, built from {@code docker/*.Dockerfile} on the project's own
   * base and imported into the node's containerd: {@code HEARTH_OPERATOR_IMAGE} and {@code
   * HEARTH_AGENT_IMAGE}, each {@code repository:tag}.
   */
  Map<String, String> hearthImages() {
    String out = Timed.step("images", () -> script(IMAGES_SH, "hearth")).stdout();
    Map<String, String> images = new LinkedHashMap<>();
    out.lines()
        .filter(l -> l.startsWith("HEARTH_") && l.contains("="))
        .forEach(l -> images.put(l.substring(0, l.indexOf('=')), l.substring(l.indexOf('=') + 1)));
    return images;
  }

  /** kubectl as the cluster's admin; returns what it did, whatever its exit status. */
  Command.Result kubectl(String... args) {
    return tool(ClusterTools.kubectl(), Duration.ofMinutes(3), args);
  }

  /** Sets {@code spec.runState} of the MicroVM {@code vm} in namespace default. */
  void setRunState(String vm, RunState want) {
    kubectl(
            "patch",
            "microvm",
            vm,
            "--type=merge",
            "-p",
            "{\"spec\":{\"runState\":\"" + want + "\"}}")
        .orFail("kubectl patch " + vm + " runState " + want);
  }

  /** helm as the cluster's admin; returns what it did, whatever its exit status. */
  Command.Result helm(String... args) {
    return tool(ClusterTools.helm(), Duration.ofMinutes(5), args);
  }

  private Command.Result tool(Path binary, Duration timeout, String... args) {
    List<String> command = new ArrayList<>(List.of(binary.toString()));
    command.addAll(List.of(args));
    return Command.run(
        command, ROOT, Map.of("KUBECONFIG", plane.kubeconfigFile().toString()), timeout);
  }

  /**
   * Takes the node down ({@code node.sh down}: its processes, containers, links, tables, chains,
   * mounts, cgroups and sysctls), then stops the control plane.
   *
   * @throws AssertionError when the host is not as it was before the node came up
   */
  @Override
  public void close() {
    try {
      Timed.step("node down", () -> script(NODE_SH, "down", dir.toString()));
    } finally {
      plane.close();
    }
  }

  private static Command.Result script(Path script, String... args) {
    List<String> command = new ArrayList<>(List.of("bash", script.toString()));
    command.addAll(List.of(args));
    Command.Result r = Command.run(command, ROOT, Map.of(), Duration.ofMinutes(10));
    System.err.print(r.stderr()); // the scripts' progress lines, for the build log
    return r.orFail(ROOT.relativize(script) + " " + String.join(" ", args));
  }
}
