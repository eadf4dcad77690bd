package dev.hearth.operator;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.InstanceOfAssertFactories.STRING;

import dev.hearth.api.v1alpha1.HearthApi;
import dev.hearth.api.v1alpha1.MicroVM;
import dev.hearth.api.v1alpha1.MicroVMSet;
import dev.hearth.api.v1alpha1.MicroVMSetSpec;
import io.fabric8.kubernetes.api.model.HasMetadata;
import io.fabric8.kubernetes.api.model.ObjectMetaBuilder;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.fabric8.kubernetes.client.server.mock.EnableKubernetesMockClient;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import picocli.CommandLine;

/**
 * The chart's pre-delete hook against the mock API server (crud mode, which keeps an object with
 * finalizers until they are removed): it deletes sets and MicroVMs, waits for the agents'
 * finalizers to go, and fails naming the MicroVMs an absent agent never lets go.
 */
@EnableKubernetesMockClient(crud = true)
class UninstallCleanupCommandTest {
  private static final Duration POLL = Duration.ofMillis(50);

  KubernetesClient client;
  private final ScheduledExecutorService agent = Executors.newSingleThreadScheduledExecutor();

  @BeforeEach
  void installCrds() {
    Fixtures.installCrds(client);
  }

  @AfterEach
  void stopAgent() {
    agent.shutdownNow();
  }

  @Test
  void deletesSetsAndVmsEverywhereAndWaitsForTheAgentsToReleaseThem() {
    create(set("a", "web"));
    create(boundVm("a", "one", "node-1"));
    create(boundVm("b", "two", "node-2"));
    create(Fixtures.vm(Fixtures.NS, "pending", 1, 16)); // unbound: no finalizer, goes at once
    agentReleasesDeletedVms();

    List<String> left = command().cleanUp(client, Duration.ofSeconds(30), POLL);

    assertThat(left).isEmpty();
    assertThat(client.resources(MicroVM.class).inAnyNamespace().list().getItems()).isEmpty();
    assertThat(client.resources(MicroVMSet.class).inAnyNamespace().list().getItems()).isEmpty();
  }

  @Test
  void withWatchNamespacesOnlyThoseAreCleaned() {
    create(boundVm("a", "one", "node-1"));
    create(boundVm("b", "two", "node-1"));
    agentReleasesDeletedVms();

    assertThat(command("--watch-namespaces=a, ").cleanUp(client, Duration.ofSeconds(30), POLL))
        .isEmpty();

    assertThat(client.resources(MicroVM.class).inNamespace("a").list().getItems()).isEmpty();
    MicroVM other = client.resources(MicroVM.class).inNamespace("b").withName("two").get();
    assertThat(other).isNotNull();
    assertThat(other.getMetadata().getDeletionTimestamp()).isNull();
  }

  @Test
  void aVmNoAgentReleasesFailsTheCleanupByName() {
    create(boundVm("a", "stuck", "gone-node"));

    List<String> left = command().cleanUp(client, Duration.ofMillis(500), POLL);

    assertThat(left)
        .singleElement(STRING)
        .contains("a/stuck", "on node gone-node", HearthApi.AGENT_FINALIZER);
    MicroVM stuck = client.resources(MicroVM.class).inNamespace("a").withName("stuck").get();
    assertThat(stuck.getMetadata().getDeletionTimestamp()).isNotNull();
  }

  @Test
  void isASubcommandOfTheOperatorReadingItsOwnVariables() {
    CommandLine sub =
        OperatorCommand.commandLine()
            .parseArgs("uninstall-cleanup", "--timeout-seconds=5")
            .asCommandLineList()
            .getLast();
    assertThat(sub.getCommandName()).isEqualTo("uninstall-cleanup");
    UninstallCleanupCommand c = sub.getCommand();
    assertThat(c.timeoutSeconds).isEqualTo(5);
  }

  /** Stands in for the agents: removes the finalizer of each MicroVM being deleted. */
  private void agentReleasesDeletedVms() {
    agent.scheduleWithFixedDelay(
        () -> {
          for (MicroVM vm : client.resources(MicroVM.class).inAnyNamespace().list().getItems()) {
            if (vm.getMetadata().getDeletionTimestamp() != null) {
              client
                  .resources(MicroVM.class)
                  .inNamespace(vm.getMetadata().getNamespace())
                  .withName(vm.getMetadata().getName())
                  .edit(
                      v -> {
                        v.getMetadata().setFinalizers(List.of());
                        return v;
                      });
            }
          }
        },
        0,
        POLL.toMillis(),
        TimeUnit.MILLISECONDS);
  }

  private static UninstallCleanupCommand command(String... args) {
    List<String> argv = new ArrayList<>(List.of("uninstall-cleanup"));
    argv.addAll(List.of(args));
    return OperatorCommand.commandLine()
        .parseArgs(argv.toArray(String[]::new))
        .asCommandLineList()
        .getLast()
        .getCommand();
  }

  private void create(HasMetadata o) {
    client.resource(o).create();
  }

  private static MicroVM boundVm(String namespace, String name, String node) {
    MicroVM vm = Fixtures.vm(namespace, name, 1, 16);
    vm.setMetadata(
        new ObjectMetaBuilder()
            .withNamespace(namespace)
            .withName(name)
            .withLabels(Map.of(HearthApi.NODE_LABEL, node))
            .withFinalizers(HearthApi.AGENT_FINALIZER)
            .build());
    return vm;
  }

  private static MicroVMSet set(String namespace, String name) {
    MicroVMSet set = new MicroVMSet();
    set.setMetadata(new ObjectMetaBuilder().withNamespace(namespace).withName(name).build());
    set.setSpec(new MicroVMSetSpec());
    return set;
  }
}
