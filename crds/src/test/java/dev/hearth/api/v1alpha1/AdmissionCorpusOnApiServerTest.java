package dev.hearth.api.v1alpha1;

import static org.assertj.core.api.Assertions.assertThat;

import dev.hearth.testkit.ControlPlane;
import io.fabric8.kubernetes.api.model.GenericKubernetesResource;
import io.fabric8.kubernetes.client.Config;
import io.fabric8.kubernetes.client.ConfigBuilder;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.fabric8.kubernetes.client.KubernetesClientBuilder;
import io.fabric8.kubernetes.client.KubernetesClientException;
import io.fabric8.kubernetes.client.dsl.FieldValidateable;
import io.fabric8.kubernetes.client.dsl.Resource;
import io.fabric8.kubernetes.client.dsl.base.PatchContext;
import io.fabric8.kubernetes.client.dsl.base.PatchType;
import io.fabric8.kubernetes.client.dsl.base.ResourceDefinitionContext;
import io.fabric8.kubernetes.client.utils.Serialization;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Named;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * The admission corpus ({@code src/test/resources/admission/}) on a real kube-apiserver with the
 * committed CRDs: every manifest under {@code invalid/} is refused, with the words its first line
 * names ({@code # expect: <part of the server's message>}), and every one under {@code valid/} is
 * accepted. Each is sent twice, as {@code kubectl apply --dry-run=server} sends a new object
 * (create, unknown fields refused) and as {@code kubectl apply --server-side --dry-run=server}
 * does, since the two report some errors in different words.
 *
 * <p>A manifest with a {@code status} is a status write: the server drops status on create, so the
 * object is created without it and its status then sent to the status subresource, dry run.
 */
class AdmissionCorpusOnApiServerTest {
  private static final Path CORPUS = Path.of("src/test/resources/admission");

  private static ControlPlane plane;
  private static KubernetesClient client;
  private static String ns;

  @AfterAll
  static void closeClient() {
    if (client != null) {
      client.close();
    }
  }

  @BeforeAll
  static void installCrds() {
    plane = ControlPlane.shared();
    // No retries: server-side apply answers a type error with a 500, which the default client
    // retries with back-off for some 20 s.
    client =
        new KubernetesClientBuilder()
            .withConfig(
                new ConfigBuilder(Config.fromKubeconfig(plane.kubeconfigFile().toFile()))
                    .withRequestRetryBackoffLimit(0)
                    .build())
            .build();
    Path committed = Path.of(System.getProperty("hearth.crds.committed", "yaml"));
    plane.installCrds(committed);
    ns = plane.createNamespace("admission");
  }

  static Stream<Named<Path>> invalid() throws IOException {
    return files("invalid");
  }

  static Stream<Named<Path>> valid() throws IOException {
    return files("valid");
  }

  @ParameterizedTest(name = "{0}")
  @MethodSource("invalid")
  void isRefusedWithTheExpectedWords(Path file) throws IOException {
    String expect = expectation(file);
    for (Mode mode : Mode.values()) {
      Optional<String> refusal = send(file, mode);
      assertThat(refusal).as("%s (%s) was accepted", file.getFileName(), mode).isPresent();
      assertThat(refusal.get()).as("%s (%s)", file.getFileName(), mode).contains(expect);
    }
  }

  @ParameterizedTest(name = "{0}")
  @MethodSource("valid")
  void isAccepted(Path file) throws IOException {
    for (Mode mode : Mode.values()) {
      assertThat(send(file, mode)).as("%s (%s)", file.getFileName(), mode).isEmpty();
    }
  }

  /** How kubectl sends a new object: a create, or a server-side apply. */
  private enum Mode {
    CREATE,
    SERVER_SIDE_APPLY
  }

  /** The server's refusal of the manifest, dry run, or empty when it accepts it. */
  private static Optional<String> send(Path file, Mode mode) throws IOException {
    GenericKubernetesResource doc = read(file);
    try {
      if (doc.getAdditionalProperties().containsKey("status")) {
        sendStatus(doc, mode);
      } else if (mode == Mode.CREATE) {
        resource(doc).dryRun().fieldValidation(FieldValidateable.Validation.STRICT).create();
      } else {
        resource(doc).dryRun().fieldManager("kubectl").forceConflicts().serverSideApply();
      }
      return Optional.empty();
    } catch (KubernetesClientException e) {
      String message = e.getStatus() != null ? e.getStatus().getMessage() : e.getMessage();
      return Optional.of(e.getCode() + " " + message);
    }
  }

  /** Creates the object without its status, sends the status (dry run), deletes the object. */
  private static void sendStatus(GenericKubernetesResource doc, Mode mode) {
    Object status = doc.getAdditionalProperties().get("status");
    GenericKubernetesResource bare = Serialization.clone(doc);
    bare.getAdditionalProperties().remove("status");
    resource(bare).create();
    try {
      PatchContext patch =
          PatchContext.of(mode == Mode.CREATE ? PatchType.JSON_MERGE : PatchType.SERVER_SIDE_APPLY);
      patch.setDryRun(List.of("All"));
      patch.setFieldManager("kubectl");
      patch.setForce(mode == Mode.SERVER_SIDE_APPLY ? true : null);
      Map<String, Object> body =
          mode == Mode.CREATE
              ? Map.of("status", status)
              : Map.of(
                  "apiVersion", doc.getApiVersion(),
                  "kind", doc.getKind(),
                  "metadata", Map.of("name", doc.getMetadata().getName()),
                  "status", status);
      resource(bare).subresource("status").patch(patch, Serialization.asJson(body));
    } finally {
      resource(bare).withTimeout(30, TimeUnit.SECONDS).delete();
    }
  }

  /**
   * The object's resource, named without API discovery (which fabric8 would otherwise do for each
   * generic object, at a second or so apiece on a busy machine).
   */
  private static Resource<GenericKubernetesResource> resource(GenericKubernetesResource doc) {
    ResourceDefinitionContext context =
        switch (doc.getKind()) {
          case "MicroVM" -> CONTEXTS.get(MicroVM.class);
          case "MicroVMSet" -> CONTEXTS.get(MicroVMSet.class);
          case "MicroVMNode" -> CONTEXTS.get(MicroVMNode.class);
          default -> throw new IllegalArgumentException("not a Hearth kind: " + doc.getKind());
        };
    var resources = client.genericKubernetesResources(context);
    return context.isNamespaceScoped()
        ? resources.inNamespace(ns).resource(doc)
        : resources.resource(doc);
  }

  private static final Map<Class<?>, ResourceDefinitionContext> CONTEXTS =
      Map.of(
          MicroVM.class, ResourceDefinitionContext.fromResourceType(MicroVM.class),
          MicroVMSet.class, ResourceDefinitionContext.fromResourceType(MicroVMSet.class),
          MicroVMNode.class, ResourceDefinitionContext.fromResourceType(MicroVMNode.class));

  private static GenericKubernetesResource read(Path file) throws IOException {
    return Serialization.unmarshal(Files.readString(file), GenericKubernetesResource.class);
  }

  /** The words an invalid manifest's first line says the refusal holds. */
  private static String expectation(Path file) throws IOException {
    String first = Files.readAllLines(file).getFirst();
    assertThat(first).as(file + " first line").startsWith("# expect: ");
    return first.substring("# expect: ".length()).strip();
  }

  private static Stream<Named<Path>> files(String dir) throws IOException {
    try (Stream<Path> s = Files.list(CORPUS.resolve(dir))) {
      List<Path> files = s.filter(p -> p.toString().endsWith(".yaml")).sorted().toList();
      assertThat(files).as(dir + " corpus").isNotEmpty();
      return files.stream().map(p -> Named.of(p.getFileName().toString(), p));
    }
  }
}
