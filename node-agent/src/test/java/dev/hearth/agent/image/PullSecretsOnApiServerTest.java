package dev.hearth.agent.image;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.hearth.agent.testing.TestImageCaches;
import dev.hearth.testkit.ControlPlane;
import dev.hearth.testkit.OciLayout;
import dev.hearth.testkit.Registry;
import io.fabric8.kubernetes.api.model.SecretBuilder;
import io.fabric8.kubernetes.api.model.ServiceAccountBuilder;
import io.fabric8.kubernetes.api.model.rbac.PolicyRuleBuilder;
import io.fabric8.kubernetes.api.model.rbac.RoleBindingBuilder;
import io.fabric8.kubernetes.api.model.rbac.RoleBuilder;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Base64;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Pull Secrets read as the agent reads them (one get by name, as a ServiceAccount) on a real API
 * server, used against a real private registry.
 */
class PullSecretsOnApiServerTest {
  @TempDir Path tmp;

  @Test
  void aDockerConfigSecretUnlocksThePrivateRegistryOnlyWhereRbacLetsTheAgentReadIt()
      throws Exception {
    ControlPlane cp = ControlPlane.shared();
    KubernetesClient admin = cp.client();
    String ns = cp.createNamespace("pull-secrets");
    admin
        .serviceAccounts()
        .inNamespace(ns)
        .resource(
            new ServiceAccountBuilder().withNewMetadata().withName("agent").endMetadata().build())
        .create();
    try (Registry registry = Registry.startPrivate("bob", "hunter2")) {
      String config =
          "{\"auths\":{\"http://"
              + registry.host()
              + "\":{\"auth\":\""
              + Base64.getEncoder().encodeToString("bob:hunter2".getBytes(StandardCharsets.UTF_8))
              + "\"}}}";
      admin
          .secrets()
          .inNamespace(ns)
          .resource(
              new SecretBuilder()
                  .withNewMetadata()
                  .withName("regcred")
                  .endMetadata()
                  .withType("kubernetes.io/dockerconfigjson")
                  .withData(
                      Map.of(
                          ".dockerconfigjson",
                          Base64.getEncoder()
                              .encodeToString(config.getBytes(StandardCharsets.UTF_8))))
                  .build())
          .create();
      registry.push(
          OciLayout.write(
              tmp.resolve("layout"),
              "latest",
              List.of(new OciLayout.Layer().file("etc/hello", "hi\n", 0644, 0, 0)),
              List.of(),
              List.of(),
              List.of(),
              null,
              null),
          "team/app",
          "v1");
      ImageCache cache =
          TestImageCaches.forRegistry(
              tmp.resolve("cache"), tmp.resolve("images"), registry, new SimpleMeterRegistry());
      ImageRef.Oci source =
          new ImageRef.Oci(
              ImageReference.parse(registry.host() + "/team/app:v1"),
              Optional.empty(),
              List.of("regcred"));

      try (KubernetesClient agent = cp.clientAs(ns, "agent")) {
        // Without the chart's opt-in rule the agent may not read it, and says what to enable.
        assertThatThrownBy(() -> cache.resolve(source, "vm", new KubernetesPullSecrets(agent, ns)))
            .isInstanceOfSatisfying(
                ImageException.class,
                e -> {
                  assertThat(e.reason()).isEqualTo("ImagePullSecretUnusable");
                  assertThat(e.getMessage()).contains("agent.images.pullSecrets");
                });
        admin
            .rbac()
            .roles()
            .inNamespace(ns)
            .resource(
                new RoleBuilder()
                    .withNewMetadata()
                    .withName("get-secrets")
                    .endMetadata()
                    .withRules(
                        new PolicyRuleBuilder()
                            .withApiGroups("")
                            .withResources("secrets")
                            .withVerbs("get")
                            .build())
                    .build())
            .create();
        admin
            .rbac()
            .roleBindings()
            .inNamespace(ns)
            .resource(
                new RoleBindingBuilder()
                    .withNewMetadata()
                    .withName("get-secrets")
                    .endMetadata()
                    .withNewRoleRef("rbac.authorization.k8s.io", "Role", "get-secrets")
                    .addNewSubject()
                    .withKind("ServiceAccount")
                    .withName("agent")
                    .withNamespace(ns)
                    .endSubject()
                    .build())
            .create();
        Path image = awaitPull(cache, source, new KubernetesPullSecrets(agent, ns));
        assertThat(Files.size(image)).isPositive();
        assertThat(OciPullTest.debugfs(image, "cat /etc/hello")).isEqualTo("hi\n");

        ImageRef.Oci missing =
            new ImageRef.Oci(source.reference(), Optional.empty(), List.of("nope"));
        assertThatThrownBy(() -> cache.resolve(missing, "vm", new KubernetesPullSecrets(agent, ns)))
            .isInstanceOfSatisfying(
                ImageException.class,
                e -> assertThat(e.getMessage()).contains("nope does not exist in namespace " + ns));
      }
    }
  }

  /** RBAC changes reach the authorizer's cache within a moment: retry the pull briefly. */
  private static Path awaitPull(ImageCache cache, ImageRef.Oci source, PullSecrets secrets)
      throws Exception {
    long deadline = System.nanoTime() + 10_000_000_000L;
    while (true) {
      try {
        return cache.resolve(source, "vm", secrets);
      } catch (ImageException e) {
        if (System.nanoTime() > deadline || !e.reason().equals("ImagePullSecretUnusable")) {
          throw e;
        }
        Thread.sleep(200);
      }
    }
  }

  @Test
  void dockerConfigsInBothFormsAndRegistryKeysNormalised() {
    String auth = Base64.getEncoder().encodeToString("u:p:with:colons".getBytes());
    List<RegistryCredential> creds =
        RegistryCredential.parseDockerConfig(
            ("{\"auths\":{\"https://index.docker.io/v1/\":{\"auth\":\""
                    + auth
                    + "\"},\"reg.example.org:5000\":{\"username\":\"a\",\"password\":\"b\"}}}")
                .getBytes());
    assertThat(creds)
        .containsExactly(
            new RegistryCredential("docker.io", "u", "p:with:colons"),
            new RegistryCredential("reg.example.org:5000", "a", "b"));
    assertThat(creds.get(0).toString()).doesNotContain("p:with:colons");
    assertThatThrownBy(() -> RegistryCredential.parseDockerConfig("[1]".getBytes()))
        .isInstanceOf(IllegalArgumentException.class);
  }
}
