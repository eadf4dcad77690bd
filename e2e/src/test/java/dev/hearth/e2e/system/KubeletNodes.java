package dev.hearth.e2e.system;

import io.fabric8.kubernetes.api.model.Node;
import io.fabric8.kubernetes.api.model.NodeBuilder;
import io.fabric8.kubernetes.api.model.NodeCondition;
import io.fabric8.kubernetes.api.model.NodeConditionBuilder;
import io.fabric8.kubernetes.api.model.NodeStatusBuilder;
import io.fabric8.kubernetes.api.model.OwnerReferenceBuilder;
import io.fabric8.kubernetes.api.model.coordination.v1.Lease;
import io.fabric8.kubernetes.api.model.coordination.v1.LeaseBuilder;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.fabric8.kubernetes.client.dsl.base.PatchContext;
import io.fabric8.kubernetes.client.dsl.base.PatchType;
import java.time.Instant;
import java.time.ZoneOffset;
import java.time.ZonedDateTime;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;

/**
 * Core Nodes for the scenarios' agents, kept alive as their kubelets would keep them: registered
 * with labels, reporting Ready, and renewing a Lease in {@code kube-node-lease} every 10 s. On the
 * real API server the controller-manager's node lifecycle controller taints a Node whose kubelet
 * never reports ({@code node.kubernetes.io/unreachable:NoSchedule}, after about a minute), and the
 * operator honours a Node's NoSchedule taints as the kube-scheduler does.
 */
final class KubeletNodes implements AutoCloseable {
  private static final String LEASE_NAMESPACE = "kube-node-lease";
  private static final int LEASE_SECONDS = 40;
  private static final long RENEW_SECONDS = 10;

  private final KubernetesClient client;
  private final List<String> names = new CopyOnWriteArrayList<>();
  private final ScheduledExecutorService renewals =
      Executors.newSingleThreadScheduledExecutor(
          Thread.ofPlatform().name("hearth-e2e-kubelets").daemon().factory());

  KubeletNodes(KubernetesClient client) {
    this.client = client;
    renewals.scheduleWithFixedDelay(this::renewAll, RENEW_SECONDS, RENEW_SECONDS, TimeUnit.SECONDS);
  }

  /** Registers Node {@code name} with {@code labels}, Ready, with a fresh Lease. */
  void add(String name, Map<String, String> labels) {
    Node node =
        client
            .nodes()
            .resource(
                new NodeBuilder()
                    .withNewMetadata()
                    .withName(name)
                    .withLabels(labels)
                    .endMetadata()
                    .build())
            .createOr(r -> r.update());
    String now = Instant.now().toString();
    NodeCondition ready =
        new NodeConditionBuilder()
            .withType("Ready")
            .withStatus("True")
            .withReason("KubeletReady")
            .withMessage("a stand-in for the kubelet reports Ready")
            .withLastHeartbeatTime(now)
            .withLastTransitionTime(now)
            .build();
    // A patch, not an update: the controller-manager changes a new Node at once (its taints).
    String status =
        client
            .getKubernetesSerialization()
            .asJson(Map.of("status", new NodeStatusBuilder().withConditions(ready).build()));
    client
        .nodes()
        .withName(name)
        .subresource("status")
        .patch(PatchContext.of(PatchType.STRATEGIC_MERGE), status);
    names.add(name);
    renew(node);
  }

  private void renewAll() {
    for (String name : names) {
      try {
        Node node = client.nodes().withName(name).get();
        if (node != null) {
          renew(node);
        }
      } catch (RuntimeException e) {
        // The next tick tries again; a Lease 40 s long outlasts a few missed renewals.
      }
    }
  }

  private void renew(Node node) {
    ZonedDateTime now = ZonedDateTime.now(ZoneOffset.UTC);
    Lease lease =
        new LeaseBuilder()
            .withNewMetadata()
            .withName(node.getMetadata().getName())
            .withNamespace(LEASE_NAMESPACE)
            // As the kubelet does: the Lease goes with its Node.
            .withOwnerReferences(
                new OwnerReferenceBuilder()
                    .withApiVersion("v1")
                    .withKind("Node")
                    .withName(node.getMetadata().getName())
                    .withUid(node.getMetadata().getUid())
                    .build())
            .endMetadata()
            .withNewSpec()
            .withHolderIdentity(node.getMetadata().getName())
            .withLeaseDurationSeconds(LEASE_SECONDS)
            .withRenewTime(now)
            .endSpec()
            .build();
    client.resource(lease).createOr(r -> r.update());
  }

  /** Stops renewing and deletes the Nodes (their Leases go with them). */
  @Override
  public void close() {
    renewals.shutdownNow();
    for (String name : names) {
      client.nodes().withName(name).delete();
    }
    names.clear();
  }
}
