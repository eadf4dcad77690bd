package dev.hearth.e2e.chart;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.catchThrowable;

import com.fasterxml.jackson.databind.JsonNode;
import dev.hearth.agent.node.LeaseRenewer;
import dev.hearth.agent.node.NodeRegistration;
import dev.hearth.agent.reconcile.StatusPatcher;
import dev.hearth.api.v1alpha1.HearthApi;
import dev.hearth.api.v1alpha1.KvmInfo;
import dev.hearth.api.v1alpha1.MicroVM;
import dev.hearth.api.v1alpha1.MicroVMNode;
import dev.hearth.api.v1alpha1.MicroVMPhase;
import dev.hearth.testkit.ControlPlane;
import io.fabric8.kubernetes.api.model.HasMetadata;
import io.fabric8.kubernetes.api.model.NodeBuilder;
import io.fabric8.kubernetes.api.model.Pod;
import io.fabric8.kubernetes.api.model.PodBuilder;
import io.fabric8.kubernetes.api.model.ServiceAccount;
import io.fabric8.kubernetes.api.model.admissionregistration.v1.ValidatingAdmissionPolicy;
import io.fabric8.kubernetes.api.model.admissionregistration.v1.ValidatingAdmissionPolicyBinding;
import io.fabric8.kubernetes.api.model.authentication.TokenRequestBuilder;
import io.fabric8.kubernetes.api.model.coordination.v1.Lease;
import io.fabric8.kubernetes.api.model.coordination.v1.LeaseBuilder;
import io.fabric8.kubernetes.api.model.rbac.ClusterRole;
import io.fabric8.kubernetes.api.model.rbac.ClusterRoleBinding;
import io.fabric8.kubernetes.api.model.rbac.Role;
import io.fabric8.kubernetes.api.model.rbac.RoleBinding;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.fabric8.kubernetes.client.KubernetesClientException;
import io.fabric8.kubernetes.client.dsl.base.PatchContext;
import io.fabric8.kubernetes.client.dsl.base.PatchType;
import io.fabric8.kubernetes.client.utils.Serialization;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.time.InstantSource;
import java.util.ArrayList;
import java.util.Base64;
import java.util.List;
import java.util.Optional;
import org.awaitility.Awaitility;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.function.Executable;

/**
 * Finding 2 and 3 of issue 14 on a real kube-apiserver: the chart's RBAC and admission policies,
 * rendered by helm and installed as a release, confine each node agent to its own node by the node
 * claim of its pod-bound token, and keep the binding of a VM to a node (the label {@code
 * hearth.dev/node}, {@code status.nodeName}) the operator's. The agent's writes are made by the
 * agent's own classes (StatusPatcher, NodeRegistration, LeaseRenewer), so what the real agent does
 * on its own node is shown to pass.
 *
 * <p>No kubelet is needed: a Pod object with {@code spec.nodeName} set is enough for the
 * TokenRequest API to put the node into a token bound to it.
 */
class NodeConfinementTest {
  private static final String IMAGE = "registry.invalid/hearth/none:0";
  private static final String SHA =
      "9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08";

  private static ControlPlane plane;
  private static KubernetesClient admin;
  private static String release; // also the release namespace, and (containing "hearth") fullname
  private static String tenant;
  private static String nodeA;
  private static String nodeB;
  private static final List<HasMetadata> clusterScoped = new ArrayList<>();
  private static final List<KubernetesClient> clients = new ArrayList<>();
  private static KubernetesClient operator;
  private static KubernetesClient agentA;
  private static String tokenA;

  @BeforeAll
  static void installTheChartsPolicies() {
    plane = ControlPlane.shared();
    admin = plane.client();
    plane.installCrds(Helm.ROOT.resolve("crds/yaml"));
    release = plane.createNamespace("hearth-confine");
    tenant = plane.createNamespace("tenant");
    nodeA = release + "-a";
    nodeB = release + "-b";
    for (HasMetadata o :
        Helm.parse(
            Helm.helm("template", release, Helm.CHART.toString(), "--namespace", release)
                .assertSucceeded()
                .stdout())) {
      if (o.getMetadata().getAnnotations() != null
          && o.getMetadata().getAnnotations().containsKey("helm.sh/hook")) {
        continue; // the uninstall hook's Job and RBAC exist only while helm uninstall runs
      }
      if (o instanceof ServiceAccount || o instanceof Role || o instanceof RoleBinding) {
        admin.resource(o).inNamespace(release).create();
      } else if (o instanceof ClusterRole
          || o instanceof ClusterRoleBinding
          || o instanceof ValidatingAdmissionPolicy
          || o instanceof ValidatingAdmissionPolicyBinding) {
        clusterScoped.add(admin.resource(o).create());
      }
    }
    // four roles (agent, operator, console, metrics-reader), two bindings, two policies, two
    // policy bindings
    assertThat(clusterScoped).hasSize(10);
    for (String node : List.of(nodeA, nodeB)) {
      clusterScoped.add(
          admin
              .nodes()
              .resource(new NodeBuilder().withNewMetadata().withName(node).endMetadata().build())
              .create());
    }
    operator = track(plane.clientAs(release, release + "-operator"));
    tokenA = podBoundToken(nodeA);
    agentA = track(plane.clientWithToken(tokenA, release));
    // A tenant who may create and edit MicroVMs, and even write their status.
    admin
        .rbac()
        .roles()
        .inNamespace(tenant)
        .resource(
            new io.fabric8.kubernetes.api.model.rbac.RoleBuilder()
                .withNewMetadata()
                .withName("tenant")
                .endMetadata()
                .addNewRule()
                .withApiGroups(HearthApi.GROUP)
                .withResources("microvms", "microvms/status")
                .withVerbs("get", "create", "update", "patch")
                .endRule()
                .build())
        .create();
    admin
        .rbac()
        .roleBindings()
        .inNamespace(tenant)
        .resource(
            new io.fabric8.kubernetes.api.model.rbac.RoleBindingBuilder()
                .withNewMetadata()
                .withName("tenant")
                .endMetadata()
                .withNewRoleRef("rbac.authorization.k8s.io", "Role", "tenant")
                .addNewSubject()
                .withKind("ServiceAccount")
                .withName("default")
                .withNamespace(tenant)
                .endSubject()
                .build())
        .create();
    // Policies take effect once the API server has compiled them: wait for the first denial.
    MicroVM probe = vm("probe", nodeA);
    Awaitility.await()
        .atMost(Duration.ofSeconds(30))
        .pollInterval(Duration.ofMillis(250))
        .until(
            () -> {
              try {
                admin.resource(probe).inNamespace(tenant).dryRun().create();
                return false;
              } catch (KubernetesClientException e) {
                return e.getCode() == 403;
              }
            });
  }

  @AfterAll
  static void uninstall() {
    clients.forEach(KubernetesClient::close);
    if (admin == null) {
      return;
    }
    for (HasMetadata o : clusterScoped.reversed()) {
      admin.resource(o).delete();
    }
    for (String ns : new String[] {release, tenant}) {
      if (ns != null) {
        admin.namespaces().withName(ns).delete();
      }
    }
  }

  @Test
  void aPodBoundTokenCarriesTheNodeOfItsPod() {
    JsonNode claims = payload(tokenA);
    assertThat(claims.path("kubernetes.io").path("node").path("name").asText()).isEqualTo(nodeA);
    assertThat(claims.path("sub").asText())
        .isEqualTo("system:serviceaccount:" + release + ":" + release + "-agent");
  }

  @Test
  void anAgentWritesItsOwnVmsStatusAndRemovesItsFinalizer() {
    String name = bound("own", nodeA);
    StatusPatcher patcher = new StatusPatcher(agentA);
    Optional<MicroVM> patched = patcher.patch(tenant, name, s -> s.setPhase(MicroVMPhase.Running));
    assertThat(patched).isPresent();
    assertThat(patched.get().getStatus().getPhase()).isEqualTo(MicroVMPhase.Running);
    patcher.removeFinalizer(tenant, name);
    assertThat(get(name).getMetadata().getFinalizers()).doesNotContain(HearthApi.AGENT_FINALIZER);
  }

  @Test
  void anAgentCannotWriteAnotherNodesVm() {
    String name = bound("other", nodeB);
    StatusPatcher patcher = new StatusPatcher(agentA);
    assertDenied(
        () -> patcher.patch(tenant, name, s -> s.setPhase(MicroVMPhase.Failed)),
        "the agent of node " + nodeA + " may update only MicroVMs bound to its node");
    assertDenied(
        () -> patcher.removeFinalizer(tenant, name),
        "the agent of node " + nodeA + " may update only MicroVMs bound to its node");
  }

  @Test
  void anAgentCannotChangeTheSpecOrLabelsOfItsOwnVm() {
    String name = bound("spec", nodeA);
    String words = "may not change the spec, labels, annotations or owners of MicroVM " + name;
    assertDenied(
        () ->
            agentA
                .resources(MicroVM.class)
                .inNamespace(tenant)
                .withName(name)
                .patch(
                    PatchContext.of(PatchType.JSON_MERGE),
                    "{\"spec\":{\"kernel\":{\"source\":{\"url\":\"https://attacker.example/k\"}}}}"),
        words);
    assertDenied(
        () ->
            agentA
                .resources(MicroVM.class)
                .inNamespace(tenant)
                .withName(name)
                .patch(
                    PatchContext.of(PatchType.JSON_MERGE),
                    "{\"metadata\":{\"labels\":{\"x\":\"y\"}}}"),
        words);
    assertDenied(
        () ->
            agentA
                .resources(MicroVM.class)
                .inNamespace(tenant)
                .withName(name)
                .subresource("status")
                .patch(
                    PatchContext.of(PatchType.JSON_MERGE),
                    "{\"status\":{\"nodeName\":\"" + nodeB + "\"}}"),
        // Two policies deny this (agent confinement and operator-only binding); the server
        // reports whichever it evaluated first, so assert what both say.
        "status.nodeName",
        "operator's");
  }

  @Test
  void anAgentRegistersAndLeasesOnlyItsOwnNode() {
    MicroVMNode mine =
        registration(nodeA)
            .register(
                new dev.hearth.api.v1alpha1.NodeResources(4, 8192),
                new NodeRegistration.Reservations(1, 1024),
                new KvmInfo(),
                "test",
                "10.213.0.0/24");
    assertThat(mine.getStatus().getAllocatable().getVcpus()).isEqualTo(3);
    assertDenied(
        () ->
            registration(nodeB)
                .register(
                    new dev.hearth.api.v1alpha1.NodeResources(4, 8192),
                    new NodeRegistration.Reservations(1, 1024),
                    new KvmInfo(),
                    "test",
                    "10.213.0.0/24"),
        "the agent of node " + nodeA + " may write only its own MicroVMNode, not " + nodeB);

    LeaseRenewer own = renewer(nodeA);
    assertThat(own.renew()).as("create").isTrue();
    assertThat(own.renew()).as("update").isTrue();
    // LeaseRenewer swallows API errors (returns false); the denial's words come from a direct call.
    assertThat(renewer(nodeB).renew()).isFalse();
    assertDenied(
        () -> agentA.resource(lease(HearthApi.leaseName(nodeB), nodeB)).create(),
        "may write only its own Lease " + HearthApi.leaseName(nodeA));
    Lease leader = admin.resource(lease(HearthApi.OPERATOR_LEADER_LEASE, "operator-pod")).create();
    leader.getSpec().setHolderIdentity(nodeA);
    assertDenied(() -> agentA.resource(leader).update(), "not " + HearthApi.OPERATOR_LEADER_LEASE);
  }

  @Test
  void anAgentCannotChooseItsOwnGuestSubnet() {
    admin.resources(MicroVMNode.class).withName(nodeA).delete();
    Awaitility.await()
        .atMost(java.time.Duration.ofSeconds(30))
        .until(() -> admin.resources(MicroVMNode.class).withName(nodeA).get() == null);
    MicroVMNode claim = new MicroVMNode();
    claim.setMetadata(
        new io.fabric8.kubernetes.api.model.ObjectMetaBuilder().withName(nodeA).build());
    claim.setSpec(new dev.hearth.api.v1alpha1.MicroVMNodeSpec());
    // Another node's VM addresses, were it let through.
    claim.getSpec().setSubnet("10.213.9.0/24");
    assertDenied(
        () -> agentA.resource(claim).create(),
        "may not set spec.subnet of its MicroVMNode: the operator allocates it");
    claim.getSpec().setSubnet(null);
    assertThat(agentA.resource(claim).create().getSpec().getSubnet()).isNull();
  }

  @Test
  void anAgentTokenWithoutANodeClaimWritesNothing() {
    String name = bound("unbound", nodeA);
    KubernetesClient unbound = track(plane.clientAs(release, release + "-agent"));
    assertDenied(
        () -> new StatusPatcher(unbound).patch(tenant, name, s -> s.setPhase(MicroVMPhase.Running)),
        "no authentication.kubernetes.io/node-name claim");
    assertThat(
            new LeaseRenewer(unbound, release, nodeA, 40, InstantSource.system(), Optional::empty)
                .renew())
        .isFalse();
  }

  @Test
  void aTenantCannotBindAVmToANode() {
    KubernetesClient user = track(plane.clientAs(tenant, "default"));
    assertDenied(
        () -> user.resource(vm("pinned", nodeA)).inNamespace(tenant).create(),
        "label hearth.dev/node is the operator's");
    user.resource(vm("plain", null)).inNamespace(tenant).create();
    assertDenied(
        () ->
            user.resources(MicroVM.class)
                .inNamespace(tenant)
                .withName("plain")
                .patch(
                    PatchContext.of(PatchType.JSON_MERGE),
                    "{\"metadata\":{\"labels\":{\"hearth.dev/node\":\"" + nodeA + "\"}}}"),
        "label hearth.dev/node is the operator's");
    assertDenied(
        () ->
            user.resources(MicroVM.class)
                .inNamespace(tenant)
                .withName("plain")
                .subresource("status")
                .patch(
                    PatchContext.of(PatchType.JSON_MERGE),
                    "{\"status\":{\"nodeName\":\"" + nodeA + "\"}}"),
        "status.nodeName is the operator's");
    // Unbinding is the operator's too.
    String name = bound("unbind", nodeA);
    assertDenied(
        () ->
            user.resources(MicroVM.class)
                .inNamespace(tenant)
                .withName(name)
                .patch(
                    PatchContext.of(PatchType.JSON_MERGE),
                    "{\"metadata\":{\"labels\":{\"hearth.dev/node\":null}}}"),
        "cannot be set, changed or removed");
  }

  /** A VM the operator bound to {@code node}: label, finalizer and status.nodeName. */
  private static String bound(String name, String node) {
    MicroVM vm = vm(name, node);
    vm.getMetadata().setFinalizers(List.of(HearthApi.AGENT_FINALIZER));
    operator.resource(vm).inNamespace(tenant).create();
    operator
        .resources(MicroVM.class)
        .inNamespace(tenant)
        .withName(name)
        .subresource("status")
        .patch(
            PatchContext.of(PatchType.JSON_MERGE), "{\"status\":{\"nodeName\":\"" + node + "\"}}");
    return name;
  }

  private static MicroVM vm(String name, String node) {
    MicroVM vm =
        Serialization.unmarshal(
            """
            apiVersion: hearth.dev/v1alpha1
            kind: MicroVM
            metadata:
              name: %s
            spec:
              kernel:
                source:
                  url: https://images.example.org/hearth/vmlinux
                  sha256: %s
            """
                .formatted(name, SHA),
            MicroVM.class);
    if (node != null) {
      vm.getMetadata()
          .setLabels(new java.util.HashMap<>(java.util.Map.of(HearthApi.NODE_LABEL, node)));
    }
    return vm;
  }

  private static MicroVM get(String name) {
    return admin.resources(MicroVM.class).inNamespace(tenant).withName(name).get();
  }

  private static Lease lease(String name, String holder) {
    return new LeaseBuilder()
        .withNewMetadata()
        .withName(name)
        .withNamespace(release)
        .endMetadata()
        .withNewSpec()
        .withHolderIdentity(holder)
        .withLeaseDurationSeconds(40)
        .endSpec()
        .build();
  }

  private static NodeRegistration registration(String node) {
    return new NodeRegistration(agentA, node);
  }

  private static LeaseRenewer renewer(String node) {
    return new LeaseRenewer(agentA, release, node, 40, InstantSource.system(), Optional::empty);
  }

  /** A token for the agent's account bound to a Pod object scheduled on {@code node}. */
  private static String podBoundToken(String node) {
    Pod pod =
        admin
            .pods()
            .inNamespace(release)
            .resource(
                new PodBuilder()
                    .withNewMetadata()
                    .withName("agent-" + node)
                    .endMetadata()
                    .withNewSpec()
                    .withNodeName(node)
                    .withServiceAccountName(release + "-agent")
                    .withAutomountServiceAccountToken(false)
                    .addNewContainer()
                    .withName("agent")
                    .withImage(IMAGE)
                    .endContainer()
                    .endSpec()
                    .build())
            .create();
    return admin
        .serviceAccounts()
        .inNamespace(release)
        .withName(release + "-agent")
        .tokenRequest(
            new TokenRequestBuilder()
                .withNewSpec()
                .withExpirationSeconds(3600L)
                .withNewBoundObjectRef(
                    "v1", "Pod", pod.getMetadata().getName(), pod.getMetadata().getUid())
                .endSpec()
                .build())
        .getStatus()
        .getToken();
  }

  private static KubernetesClient track(KubernetesClient client) {
    clients.add(client);
    return client;
  }

  private static JsonNode payload(String jwt) {
    String part = jwt.split("\\.")[1];
    return Serialization.unmarshal(
        new String(Base64.getUrlDecoder().decode(part), StandardCharsets.UTF_8), JsonNode.class);
  }

  private static void assertDenied(Executable call, String... words) {
    Throwable thrown = catchThrowable(call::execute);
    assertThat(thrown).isInstanceOf(KubernetesClientException.class);
    assertThat(((KubernetesClientException) thrown).getCode())
        .as(thrown.getMessage())
        .isEqualTo(403);
    for (String word : words) {
      assertThat(thrown).hasMessageContaining(word);
    }
  }
}
