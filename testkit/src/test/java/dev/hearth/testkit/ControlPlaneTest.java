package dev.hearth.testkit;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.awaitility.Awaitility.await;

import io.fabric8.kubernetes.api.model.ConfigMap;
import io.fabric8.kubernetes.api.model.ConfigMapBuilder;
import io.fabric8.kubernetes.api.model.GenericKubernetesResource;
import io.fabric8.kubernetes.api.model.GenericKubernetesResourceBuilder;
import io.fabric8.kubernetes.api.model.ServiceAccountBuilder;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.fabric8.kubernetes.client.KubernetesClientException;
import io.fabric8.kubernetes.client.dsl.base.ResourceDefinitionContext;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * The fixture gives a server that enforces what the mock does not: RBAC for a ServiceAccount's
 * token, CRD schemas and CEL rules, ValidatingAdmissionPolicies, and a controller-manager that
 * collects garbage and deletes namespaces.
 */
class ControlPlaneTest {
  private static final ResourceDefinitionContext WIDGETS =
      new ResourceDefinitionContext.Builder()
          .withGroup("testkit.hearth.dev")
          .withVersion("v1")
          .withPlural("widgets")
          .withKind("Widget")
          .withNamespaced(true)
          .build();

  private static ControlPlane plane;
  private static KubernetesClient admin;

  @BeforeAll
  static void start() {
    plane = ControlPlane.shared();
    admin = plane.client();
  }

  @Test
  void ownControlPlaneLeavesItsFacts() {
    if (!plane.isOwn()) {
      return; // KUBECONFIG mode: nothing of ours to look at
    }
    assertThat(plane.facts()).containsKeys("SERVER", "PORT", "CA_CERT", "PKI", "BIN");
    assertThat(plane.facts().get("SERVER"))
        .isEqualTo(admin.getMasterUrl().toString().replaceAll("/$", ""));
    assertThat(Files.isRegularFile(plane.kubeconfigFile())).isTrue();
  }

  @Test
  void kubeconfigForAnotherAddressOfThisMachine() throws Exception {
    if (!plane.isOwn()) {
      return;
    }
    Path copy = plane.kubeconfigFileFor(ControlPlane.QEMU_USER_NET_HOST);
    String port = plane.facts().get("PORT");
    assertThat(Files.readString(copy))
        .contains("server: https://10.0.2.2:" + port)
        .doesNotContain("127.0.0.1");
    // A client there verifies the server by that address: the certificate must name it.
    assertThat(certificateNames(plane.facts().get("PKI") + "/apiserver.crt"))
        .contains("127.0.0.1", "localhost", "10.0.0.1", "10.0.2.2", "10.244.0.1");
  }

  private static List<String> certificateNames(String pem) throws Exception {
    var cert =
        (java.security.cert.X509Certificate)
            java.security.cert.CertificateFactory.getInstance("X.509")
                .generateCertificate(Files.newInputStream(Path.of(pem)));
    return cert.getSubjectAlternativeNames().stream().map(n -> String.valueOf(n.get(1))).toList();
  }

  @Test
  void rbacDeniesAServiceAccountUntilARoleBindsIt() {
    String ns = plane.createNamespace("rbac");
    admin
        .serviceAccounts()
        .inNamespace(ns)
        .resource(
            new ServiceAccountBuilder().withNewMetadata().withName("probe").endMetadata().build())
        .create();
    try (KubernetesClient probe = plane.clientAs(ns, "probe")) {
      assertThatThrownBy(() -> probe.configMaps().inNamespace(ns).list())
          .isInstanceOfSatisfying(
              KubernetesClientException.class, e -> assertThat(e.getCode()).isEqualTo(403))
          .hasMessageContaining("system:serviceaccount:" + ns + ":probe");

      admin
          .resource(
              """
              apiVersion: rbac.authorization.k8s.io/v1
              kind: Role
              metadata: {name: read-configmaps, namespace: %s}
              rules:
              - apiGroups: [""]
                resources: [configmaps]
                verbs: [get, list]
              """
                  .formatted(ns))
          .create();
      admin
          .resource(
              """
              apiVersion: rbac.authorization.k8s.io/v1
              kind: RoleBinding
              metadata: {name: probe-reads, namespace: %s}
              roleRef: {apiGroup: rbac.authorization.k8s.io, kind: Role, name: read-configmaps}
              subjects:
              - {kind: ServiceAccount, name: probe, namespace: %s}
              """
                  .formatted(ns, ns))
          .create();

      await()
          .atMost(Duration.ofSeconds(30))
          .ignoreException(KubernetesClientException.class)
          .until(() -> probe.configMaps().inNamespace(ns).list() != null);
      // Bound to read, still not to write.
      assertThatThrownBy(
              () ->
                  probe
                      .configMaps()
                      .inNamespace(ns)
                      .resource(configMap("written", Map.of()))
                      .create())
          .isInstanceOfSatisfying(
              KubernetesClientException.class, e -> assertThat(e.getCode()).isEqualTo(403));
    }
  }

  @Test
  void crdSchemaAndCelRulesAreEnforced() throws Exception {
    Path crds = Path.of(getClass().getResource("/crds").toURI());
    assertThat(plane.installCrds(crds)).containsExactly("widgets.testkit.hearth.dev");
    String ns = plane.createNamespace("crd");
    var widgets = admin.genericKubernetesResources(WIDGETS).inNamespace(ns);

    assertThatThrownBy(() -> widgets.resource(widget("reversed", 5, 1)).create())
        .isInstanceOfSatisfying(
            KubernetesClientException.class, e -> assertThat(e.getCode()).isEqualTo(422))
        .hasMessageContaining("min must not exceed max");
    assertThatThrownBy(() -> widgets.resource(widget("negative", -1, 1)).create())
        .isInstanceOfSatisfying(
            KubernetesClientException.class, e -> assertThat(e.getCode()).isEqualTo(422))
        .hasMessageContaining("spec.min");

    GenericKubernetesResource created = widgets.resource(widget("fine", 1, 2)).create();
    assertThat(created.getMetadata().getUid()).isNotBlank();
    // Installing again is a no-op apply, not a conflict.
    assertThat(plane.installCrds(crds)).containsExactly("widgets.testkit.hearth.dev");
  }

  @Test
  void validatingAdmissionPoliciesAreEnforced() {
    String ns = plane.createNamespace("vap");
    String policy = ns + "-no-forbidden-key";
    List<String> yamls =
        List.of(
            """
            apiVersion: admissionregistration.k8s.io/v1
            kind: ValidatingAdmissionPolicy
            metadata: {name: %s}
            spec:
              failurePolicy: Fail
              matchConstraints:
                resourceRules:
                - apiGroups: [""]
                  apiVersions: [v1]
                  operations: [CREATE, UPDATE]
                  resources: [configmaps]
              validations:
              - expression: "!has(object.data) || !('forbidden' in object.data)"
                message: a ConfigMap may not hold the key forbidden
            """
                .formatted(policy),
            """
            apiVersion: admissionregistration.k8s.io/v1
            kind: ValidatingAdmissionPolicyBinding
            metadata: {name: %s}
            spec:
              policyName: %s
              validationActions: [Deny]
              matchResources:
                namespaceSelector:
                  matchLabels: {kubernetes.io/metadata.name: %s}
            """
                .formatted(policy, policy, ns));
    yamls.forEach(yaml -> admin.resource(yaml).create());
    try {
      var configMaps = admin.configMaps().inNamespace(ns);
      // A new policy takes effect once the server has compiled it: a second or so.
      await()
          .atMost(Duration.ofSeconds(30))
          .pollInterval(Duration.ofMillis(200))
          .until(
              () -> {
                try {
                  configMaps.resource(configMap("probe", Map.of("forbidden", "x"))).create();
                  configMaps.withName("probe").delete();
                  return false;
                } catch (KubernetesClientException e) {
                  return e.getMessage().contains("a ConfigMap may not hold the key forbidden");
                }
              });
      assertThat(configMaps.resource(configMap("allowed", Map.of("fine", "x"))).create())
          .isNotNull();
    } finally {
      yamls.reversed().forEach(yaml -> admin.resource(yaml).delete());
    }
  }

  @Test
  void controllerManagerCollectsGarbageAndDeletesNamespaces() {
    String ns = plane.createNamespace("gc");
    var configMaps = admin.configMaps().inNamespace(ns);
    ConfigMap owner = configMaps.resource(configMap("owner", Map.of())).create();
    ConfigMap dependent = configMap("dependent", Map.of());
    dependent
        .getMetadata()
        .getOwnerReferences()
        .add(
            new io.fabric8.kubernetes.api.model.OwnerReferenceBuilder()
                .withApiVersion("v1")
                .withKind("ConfigMap")
                .withName("owner")
                .withUid(owner.getMetadata().getUid())
                .build());
    configMaps.resource(dependent).create();

    configMaps.withName("owner").delete();
    await()
        .atMost(Duration.ofSeconds(60))
        .until(() -> configMaps.withName("dependent").get() == null);

    admin.namespaces().withName(ns).delete();
    await()
        .atMost(Duration.ofSeconds(90))
        .until(() -> admin.namespaces().withName(ns).get() == null);
  }

  private static ConfigMap configMap(String name, Map<String, String> data) {
    return new ConfigMapBuilder()
        .withNewMetadata()
        .withName(name)
        .endMetadata()
        .withData(data)
        .build();
  }

  private static GenericKubernetesResource widget(String name, int min, int max) {
    return new GenericKubernetesResourceBuilder()
        .withApiVersion("testkit.hearth.dev/v1")
        .withKind("Widget")
        .withNewMetadata()
        .withName(name)
        .endMetadata()
        .withAdditionalProperties(Map.of("spec", Map.of("min", min, "max", max)))
        .build();
  }
}
