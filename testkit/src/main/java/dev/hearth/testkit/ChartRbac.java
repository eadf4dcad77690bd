package dev.hearth.testkit;

import io.fabric8.kubernetes.api.model.HasMetadata;
import io.fabric8.kubernetes.api.model.ServiceAccount;
import io.fabric8.kubernetes.client.KubernetesClient;
import java.io.ByteArrayInputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

/**
 * The Helm chart's own ServiceAccounts and RBAC for one release, rendered by {@code helm template}
 * from {@code helm/hearth} (helm from {@code helm/install-tools.sh}, once, into a cache) and
 * applied to a control plane, so that a component under test runs with exactly the rights the chart
 * gives it: {@link ControlPlane#clientAs}({@link #namespace()}, {@link #operatorAccount()}).
 *
 * <p>Each release needs a name of its own: the chart's ClusterRoles and ClusterRoleBindings are
 * named after it. {@link #close()} deletes those cluster-scoped objects; the namespaced ones go
 * with the namespace.
 */
public final class ChartRbac implements AutoCloseable {
  /** The chart's templates that make the components' accounts and their rights. */
  static final List<String> TEMPLATES =
      List.of(
          "templates/operator/serviceaccount.yaml",
          "templates/operator/rbac.yaml",
          "templates/agent/serviceaccount.yaml",
          "templates/agent/rbac.yaml",
          "templates/console-rbac.yaml");

  private static final String COMPONENT_LABEL = "app.kubernetes.io/component";
  private static final long HELM_SECONDS = 300;
  private static Path helm;

  private final KubernetesClient admin;
  private final String release;
  private final String namespace;
  private final List<HasMetadata> clusterScoped;
  private final Map<String, String> accounts; // component label -> ServiceAccount name

  private ChartRbac(
      KubernetesClient admin,
      String release,
      String namespace,
      List<HasMetadata> clusterScoped,
      Map<String, String> accounts) {
    this.admin = admin;
    this.release = release;
    this.namespace = namespace;
    this.clusterScoped = clusterScoped;
    this.accounts = accounts;
  }

  /**
   * Renders the chart's accounts and RBAC for release {@code release} in {@code namespace} (which
   * must exist) and applies them as the admin, with server-side apply.
   *
   * @throws TestClusterException when helm cannot be had or fails, or an object is refused
   */
  public static ChartRbac install(ControlPlane plane, String release, String namespace) {
    ControlPlaneScript script = ControlPlaneScript.locate();
    Path chart = script.repository().resolve("helm/hearth");
    List<String> command =
        new ArrayList<>(
            List.of(
                helm(script.repository()).toString(),
                "template",
                release,
                chart.toString(),
                "--namespace",
                namespace));
    TEMPLATES.forEach(t -> command.addAll(List.of("--show-only", t)));
    ControlPlaneScript.Result rendered = ControlPlaneScript.exec(command, HELM_SECONDS);
    if (rendered.exitCode() != 0) {
      throw new TestClusterException(
          String.join(" ", command)
              + " exited with "
              + rendered.exitCode()
              + ": "
              + rendered.output());
    }
    KubernetesClient admin = plane.client();
    List<HasMetadata> clusterScoped = new ArrayList<>();
    Map<String, String> accounts = new HashMap<>();
    byte[] yaml = rendered.output().getBytes(StandardCharsets.UTF_8);
    for (HasMetadata object : admin.load(new ByteArrayInputStream(yaml)).items()) {
      try {
        admin
            .resource(object)
            .fieldManager(ControlPlane.FIELD_MANAGER)
            .forceConflicts()
            .serverSideApply();
      } catch (RuntimeException e) {
        throw new TestClusterException(
            "cannot apply the chart's " + object.getKind() + " " + object.getMetadata().getName(),
            e);
      }
      if (object.getMetadata().getNamespace() == null) {
        clusterScoped.add(object);
      }
      if (object instanceof ServiceAccount account) {
        accounts.put(
            account.getMetadata().getLabels().get(COMPONENT_LABEL),
            account.getMetadata().getName());
      }
    }
    return new ChartRbac(
        admin, release, namespace, List.copyOf(clusterScoped), Map.copyOf(accounts));
  }

  /**
   * The folder holding helm (and kubectl), installed by {@code helm/install-tools.sh} on first use;
   * its parent is the tools cache ({@code HEARTH_TOOLS_DIR}), for running the same elsewhere (a
   * nested machine that gets this folder) without installing anything there.
   */
  public static Path toolsFolder() {
    return helm(ControlPlaneScript.locate().repository()).getParent();
  }

  /** helm, installed by the repository's own script on first use. */
  private static synchronized Path helm(Path repository) {
    if (helm == null) {
      ControlPlaneScript.Result r =
          ControlPlaneScript.exec(
              List.of("sh", repository.resolve("helm/install-tools.sh").toString()), HELM_SECONDS);
      List<String> lines = r.output().lines().toList();
      Path binary = lines.isEmpty() ? null : Path.of(lines.get(lines.size() - 1).strip(), "helm");
      if (r.exitCode() != 0 || binary == null || !Files.isExecutable(binary)) {
        throw new TestClusterException(
            "helm/install-tools.sh found no helm (exit " + r.exitCode() + "): " + r.output());
      }
      helm = binary;
    }
    return helm;
  }

  /** The release name the objects were rendered for. */
  public String release() {
    return release;
  }

  /** The release namespace: the accounts, the Roles and the components' Leases are there. */
  public String namespace() {
    return namespace;
  }

  /** The operator's ServiceAccount as the chart names it ({@code <release>-hearth-operator}). */
  public String operatorAccount() {
    return account("operator");
  }

  /** The agent's ServiceAccount as the chart names it ({@code <release>-hearth-agent}). */
  public String agentAccount() {
    return account("agent");
  }

  private String account(String component) {
    String name = accounts.get(component);
    if (name == null) {
      throw new TestClusterException(
          "the chart rendered no ServiceAccount labelled " + COMPONENT_LABEL + "=" + component);
    }
    return name;
  }

  /** Deletes the release's ClusterRoles and ClusterRoleBindings. */
  @Override
  public void close() {
    for (HasMetadata object : clusterScoped) {
      try {
        admin.resource(object).delete();
      } catch (RuntimeException e) {
        System.err.println(
            "hearth-testkit: could not delete "
                + object.getKind()
                + " "
                + object.getMetadata().getName()
                + ": "
                + e.getMessage());
      }
    }
  }
}
