package dev.hearth.e2e.node;

import dev.hearth.e2e.Command;
import dev.hearth.e2e.ProjectRoot;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;

/**
 * The chart installed on a {@link RealNode} as a user does it: {@code helm install}, {@code
 * upgrade} and {@code uninstall} of {@code helm/hearth} with only the image values set, the
 * rollouts of its workloads, and what to show when one of them fails.
 */
final class HearthRelease {
  static final String NAMESPACE = "hearth-system";

  /** The CRDs the chart installs. */
  static final List<String> CRDS =
      List.of("microvms.hearth.dev", "microvmsets.hearth.dev", "microvmnodes.hearth.dev");

  static final String NAME = "hearth";

  private final RealNode node;
  private final List<String> imageValues = new ArrayList<>();

  /** {@code images}: HEARTH_OPERATOR_IMAGE and HEARTH_AGENT_IMAGE, as images.sh prints them. */
  HearthRelease(RealNode node, Map<String, String> images) {
    this.node = node;
    for (String component : List.of("operator", "agent")) {
      String ref = images.get("HEARTH_" + component.toUpperCase() + "_IMAGE");
      if (ref == null) {
        throw new AssertionError("images.sh printed no " + component + " image: " + images);
      }
      int colon = ref.lastIndexOf(':');
      imageValues.addAll(
          List.of(
              "--set", component + ".image.repository=" + ref.substring(0, colon),
              "--set", component + ".image.tag=" + ref.substring(colon + 1),
              "--set", component + ".image.pullPolicy=Never"));
    }
  }

  /**
   * {@code helm install} into a new namespace, with {@code sets} ({@code key=value}) beside the
   * image values, then waits for both rollouts.
   */
  void install(String... sets) {
    List<String> install = new ArrayList<>(List.of("install", NAME, chart(), "-n", NAMESPACE));
    install.add("--create-namespace");
    install.addAll(imageValues);
    for (String set : sets) {
      install.addAll(List.of("--set", set));
    }
    node.helm(install.toArray(String[]::new)).orFail("helm install");
    awaitRollouts();
  }

  /** {@code helm upgrade --reuse-values} with {@code sets} ({@code key=value}), then rollouts. */
  void upgrade(String... sets) {
    List<String> upgrade =
        new ArrayList<>(List.of("upgrade", NAME, chart(), "-n", NAMESPACE, "--reuse-values"));
    for (String set : sets) {
      upgrade.addAll(List.of("--set", set));
    }
    node.helm(upgrade.toArray(String[]::new)).orFail("helm upgrade");
    awaitRollouts();
  }

  /**
   * {@code helm uninstall --wait}, which runs the pre-delete hook first; on failure the message has
   * the hook Job's log. Then waits until the release's pods are gone, so that the agent has stopped
   * and cleaned the node.
   */
  void uninstall() {
    Command.Result r = node.helm("uninstall", NAME, "-n", NAMESPACE, "--wait", "--timeout", "300s");
    if (r.status() != 0) {
      Command.Result hook =
          node.kubectl("-n", NAMESPACE, "logs", "job/" + NAME + "-uninstall", "--tail=40");
      r.orFail(
          "helm uninstall; the hook Job's log:\n" + hook.stdout() + hook.stderr() + podsAndLogs());
    }
    node.kubectl("-n", NAMESPACE, "wait", "--for=delete", "pod", "--all", "--timeout=120s")
        .orFail("the release's pods to go after helm uninstall\n" + podsAndLogs());
  }

  /** Uninstalls whatever is left after a failed test; no error when nothing is. */
  void uninstallQuietly() {
    node.helm("uninstall", NAME, "-n", NAMESPACE, "--wait", "--timeout", "300s");
  }

  /**
   * After a class's tests: uninstalls whatever is left of the release and deletes Hearth's CRDs
   * (the chart installs them; helm keeps them), so that the shared node is as the class found it.
   */
  void removeWithCrds() {
    uninstallQuietly();
    List<String> delete =
        new ArrayList<>(List.of("delete", "crd", "--ignore-not-found", "--timeout=60s"));
    delete.addAll(CRDS);
    node.kubectl(delete.toArray(String[]::new));
  }

  private void awaitRollouts() {
    node.kubectl(
            "-n",
            NAMESPACE,
            "rollout",
            "status",
            "deployment/" + NAME + "-operator",
            "--timeout=180s")
        .orFail("the operator Deployment's rollout\n" + podsAndLogs());
    for (String daemonSet : List.of(NAME + "-device-plugin", NAME + "-agent")) {
      if (node.kubectl("-n", NAMESPACE, "get", "daemonset", daemonSet).status() != 0) {
        continue; // no device plugin with agent.kvmAccess=privileged
      }
      node.kubectl("-n", NAMESPACE, "rollout", "status", "daemonset/" + daemonSet, "--timeout=180s")
          .orFail("the DaemonSet " + daemonSet + "'s rollout\n" + podsAndLogs());
    }
  }

  /** The release's pods and the last lines of each workload's log. */
  String podsAndLogs() {
    StringBuilder s =
        new StringBuilder(node.kubectl("-n", NAMESPACE, "get", "pods", "-o", "wide").stdout());
    for (String workload :
        List.of(
            "deployment/" + NAME + "-operator",
            "daemonset/" + NAME + "-device-plugin",
            "daemonset/" + NAME + "-agent")) {
      Command.Result logs = node.kubectl("-n", NAMESPACE, "logs", workload, "--tail=30");
      s.append("--- logs of ")
          .append(workload)
          .append(":\n")
          .append(logs.stdout())
          .append(logs.stderr());
    }
    return s.toString();
  }

  private static String chart() {
    return ProjectRoot.find().resolve("helm/hearth").toString();
  }
}
