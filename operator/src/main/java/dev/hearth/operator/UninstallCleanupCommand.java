package dev.hearth.operator;

import dev.hearth.api.v1alpha1.HearthApi;
import dev.hearth.api.v1alpha1.MicroVM;
import dev.hearth.api.v1alpha1.MicroVMSet;
import dev.hearth.common.LogLevel;
import io.fabric8.kubernetes.api.model.HasMetadata;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.fabric8.kubernetes.client.KubernetesClientBuilder;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.Callable;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/**
 * {@code hearth-operator uninstall-cleanup}: the chart's {@code pre-delete} hook. It runs while the
 * operator and the agents still do, deletes every MicroVMSet and MicroVM (in the watched
 * namespaces, else in all) and waits until none is left: each agent stops its VMs, frees their
 * taps, addresses and disk copies, and removes its finalizer. Without it, {@code helm uninstall}
 * would remove the agents first, and the MicroVMs would keep a finalizer nothing removes, so that
 * deleting the CRDs hangs. Options follow {@link OperatorCommand}'s rule: each has one {@code
 * HEARTH_*} variable.
 */
@Command(
    name = "uninstall-cleanup",
    mixinStandardHelpOptions = true,
    versionProvider = OperatorCommand.Version.class,
    description =
        "Delete every MicroVMSet and MicroVM and wait until the agents have released them"
            + " (the chart runs this before `helm uninstall` removes the operator and agents).")
public final class UninstallCleanupCommand implements Callable<Integer> {
  private static final Duration POLL = Duration.ofSeconds(1);
  private static final Duration REPORT_EVERY = Duration.ofSeconds(10);

  @Option(
      names = "--watch-namespaces",
      split = ",",
      defaultValue = "${env:HEARTH_WATCH_NAMESPACES}",
      description =
          "Comma-separated namespaces to clean; none means all (env HEARTH_WATCH_NAMESPACES).")
  List<String> namespaces;

  @Option(
      names = "--timeout-seconds",
      defaultValue = "${env:HEARTH_TIMEOUT_SECONDS:-180}",
      description =
          "How long to wait for the MicroVMs to go before failing and naming those left (env"
              + " HEARTH_TIMEOUT_SECONDS; default ${DEFAULT-VALUE}).")
  int timeoutSeconds;

  @Option(
      names = "--log-level",
      defaultValue = "${env:HEARTH_LOG_LEVEL:-info}",
      description =
          "trace, debug, info, warn or error (env HEARTH_LOG_LEVEL; default ${DEFAULT-VALUE}).")
  LogLevel logLevel;

  @Override
  public Integer call() {
    logLevel.apply();
    try (KubernetesClient client = new KubernetesClientBuilder().build()) {
      return cleanUp(client, Duration.ofSeconds(timeoutSeconds), POLL).isEmpty() ? 0 : 1;
    }
  }

  /**
   * Deletes the sets, then the MicroVMs, and polls until none is left, deleting again whatever
   * appears meanwhile (a replica a set made before it went). Returns the MicroVMs still there when
   * {@code timeout} ran out, empty when all are gone.
   */
  List<String> cleanUp(KubernetesClient client, Duration timeout, Duration poll) {
    Logger log = LoggerFactory.getLogger(UninstallCleanupCommand.class);
    List<String> where = namespaces();
    log.info(
        "deleting every MicroVMSet and MicroVM in {}; waiting up to {}",
        where.isEmpty() ? "all namespaces" : where,
        timeout);
    Instant deadline = Instant.now().plus(timeout);
    Instant nextReport = Instant.now().plus(REPORT_EVERY);
    while (true) {
      deleteAll(client, MicroVMSet.class, where);
      List<MicroVM> left = deleteAll(client, MicroVM.class, where);
      if (left.isEmpty() && list(client, MicroVMSet.class, where).isEmpty()) {
        log.info("no MicroVM is left");
        return List.of();
      }
      List<String> named = left.stream().map(UninstallCleanupCommand::describe).toList();
      if (!Instant.now().isBefore(deadline)) {
        log.error(
            "{} MicroVM(s) still there after {}: {}. Each waits for the agent on its node to stop it"
                + " and remove the finalizer hearth.dev/agent; is that agent running? For a node"
                + " that is gone, the operator removes the finalizer after operator.nodeLoss"
                + ".gracePeriodSeconds; else remove it by hand (kubectl patch microvm NAME -n NS"
                + " --type=json -p '[{\"op\":\"remove\",\"path\":\"/metadata/finalizers\"}]').",
            named.size(),
            timeout,
            named);
        return named;
      }
      if (!Instant.now().isBefore(nextReport)) {
        log.info("waiting for {} MicroVM(s) to be released: {}", named.size(), named);
        nextReport = Instant.now().plus(REPORT_EVERY);
      }
      sleep(poll);
    }
  }

  private List<String> namespaces() {
    return namespaces == null
        ? List.of()
        : namespaces.stream().map(String::strip).filter(s -> !s.isEmpty()).distinct().toList();
  }

  /** Deletes each object not yet being deleted; returns every object that was there. */
  private static <T extends HasMetadata> List<T> deleteAll(
      KubernetesClient client, Class<T> type, List<String> where) {
    List<T> all = list(client, type, where);
    for (T o : all) {
      if (o.getMetadata().getDeletionTimestamp() == null) {
        client.resource(o).delete(); // one gone meanwhile is no error (fabric8 returns nothing)
      }
    }
    return all;
  }

  private static <T extends HasMetadata> List<T> list(
      KubernetesClient client, Class<T> type, List<String> where) {
    if (where.isEmpty()) {
      return client.resources(type).inAnyNamespace().list().getItems();
    }
    List<T> out = new ArrayList<>();
    for (String ns : where) {
      out.addAll(client.resources(type).inNamespace(ns).list().getItems());
    }
    return out;
  }

  private static String describe(MicroVM vm) {
    // The label the operator sets when binding; status may lag behind it.
    String node =
        vm.getMetadata().getLabels() == null
            ? null
            : vm.getMetadata().getLabels().get(HearthApi.NODE_LABEL);
    return vm.getMetadata().getNamespace()
        + "/"
        + vm.getMetadata().getName()
        + (node == null ? "" : " on node " + node)
        + " (finalizers "
        + vm.getMetadata().getFinalizers()
        + ")";
  }

  private static void sleep(Duration d) {
    try {
      Thread.sleep(d);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new IllegalStateException("interrupted while waiting for MicroVMs to go", e);
    }
  }
}
