package dev.hearth.api.v1alpha1;

import static dev.hearth.api.v1alpha1.GeneratedCrds.load;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.assertj.core.api.Assertions.tuple;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.dataformat.yaml.YAMLFactory;
import dev.hearth.api.validation.CelRules;
import dev.hearth.api.validation.CelRules.Violation;
import io.fabric8.kubernetes.api.model.apiextensions.v1.CustomResourceDefinition;
import io.fabric8.kubernetes.api.model.apiextensions.v1.JSONSchemaProps;
import io.fabric8.kubernetes.api.model.apiextensions.v1.ValidationRuleBuilder;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * The CEL rules of the generated CRDs, compiled and evaluated: a bad manifest is rejected with the
 * rule's message at the right field, and a good one passes. CrdSchemaTest pins where the rules are;
 * this shows that they say what they mean.
 */
class CelRulesTest {
  private static final ObjectMapper YAML = new ObjectMapper(new YAMLFactory());
  private static final String SHA = "0123456789abcdef".repeat(4);

  // Compiled once: building a CEL environment per rule place takes a while.
  private static final CelRules vm = new CelRules(load("microvms"));
  private static final CelRules set = new CelRules(load("microvmsets"));
  private static final CelRules node = new CelRules(load("microvmnodes"));

  @SuppressWarnings("unchecked")
  private static Map<String, Object> yaml(String text) {
    try {
      return YAML.readValue(text, Map.class);
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  /** A MicroVM manifest whose spec is the given YAML, indented under spec:. */
  private static Map<String, Object> microVm(String spec) {
    return yaml(
        """
        apiVersion: hearth.dev/v1alpha1
        kind: MicroVM
        metadata: {name: t, namespace: vms}
        spec:
        """
            + spec.indent(2));
  }

  private static final String KERNEL =
      """
      kernel:
        source: {path: linux/vmlinux}
      """;

  @Test
  void everyRuleCompilesAndTypeChecksAgainstTheSchema() {
    // The API server refuses a CRD whose rules do not compile or are not bool; it type-checks
    // them against the schema, so a rule naming a field that does not exist fails too.
    assertThat(vm.compiledRules()).hasSize(ruleCount("microvms")).isNotEmpty();
    assertThat(set.compiledRules()).hasSize(ruleCount("microvmsets")).isNotEmpty();
    assertThat(node.compiledRules()).hasSize(ruleCount("microvmnodes"));
  }

  @Test
  void aRuleThatNamesAFieldTheSchemaLacksDoesNotCompile() {
    CustomResourceDefinition crd = load("microvms");
    GeneratedCrds.at(crd, "spec.kernel.source")
        .getXKubernetesValidations()
        .add(new ValidationRuleBuilder().withRule("has(self.sha265)").withMessage("typo").build());
    assertThatThrownBy(() -> new CelRules(crd))
        .hasMessageContaining("spec.kernel.source")
        .hasMessageContaining("sha265");
  }

  @Test
  void aRuleThatIsNotBoolDoesNotCompile() {
    CustomResourceDefinition crd = load("microvms");
    GeneratedCrds.at(crd, "spec")
        .getXKubernetesValidations()
        .add(
            new ValidationRuleBuilder().withRule("self.vcpus + 1").withMessage("not bool").build());
    assertThatThrownBy(() -> new CelRules(crd)).hasMessageContaining("self.vcpus + 1");
  }

  private static int ruleCount(String plural) {
    int[] n = {0};
    countRules(GeneratedCrds.root(load(plural)), n);
    return n[0];
  }

  private static void countRules(JSONSchemaProps s, int[] n) {
    if (s.getXKubernetesValidations() != null) {
      n[0] += s.getXKubernetesValidations().size();
    }
    if (s.getProperties() != null) {
      s.getProperties().values().forEach(c -> countRules(c, n));
    }
    if (s.getItems() != null && s.getItems().getSchema() != null) {
      countRules(s.getItems().getSchema(), n);
    }
    if (s.getAdditionalProperties() != null && s.getAdditionalProperties().getSchema() != null) {
      countRules(s.getAdditionalProperties().getSchema(), n);
    }
  }

  @Test
  void aFullGoodManifestPasses() {
    Map<String, Object> good =
        microVm(
            KERNEL
                + """
                vcpus: 2
                memoryMiB: 512
                initrd: {url: "https://images.example.org/initrd.img", sha256: "%s"}
                rootfs:
                  source: {path: linux/rootfs.ext4}
                  rateLimiter:
                    bandwidth: {size: 10485760, refillTimeMs: 1000, oneTimeBurst: 52428800}
                    ops: {size: 0, refillTimeMs: 0}
                drives:
                  - name: data
                    source: {url: "http://10.0.0.1/data.img", sha256: "%s"}
                    rateLimiter:
                      ops: {size: 100, refillTimeMs: 1000}
                  - name: logs
                    source: {path: logs.img}
                network:
                  - name: eth0
                    macAddress: "02:FC:00:00:00:01"
                    rxRateLimiter:
                      bandwidth: {size: 1048576, refillTimeMs: 100}
                  - name: eth1
                    macAddress: "02:fc:00:00:00:02"
                  - name: eth2
                vsock: {cid: 3}
                nodeName: worker-1
                """
                    .formatted(SHA, SHA));
    assertThat(vm.validate(good)).isEmpty();
  }

  static Stream<Case> badSpecs() {
    return Stream.of(
        bad(
            "a url kernel without its sha256",
            """
            kernel:
              source: {url: "https://example.org/vmlinux"}
            """,
            "spec.kernel.source",
            "a url source requires sha256"),
        bad(
            "a kernel with both path and url",
            """
            kernel:
              source: {path: k, url: "https://example.org/vmlinux", sha256: "%s"}
            """
                .formatted(SHA),
            "spec.kernel.source",
            "exactly one of path, url or oci must be set"),
        bad(
            "a kernel source with neither path nor url",
            """
            kernel:
              source: {}
            """,
            "spec.kernel.source",
            "exactly one of path, url or oci must be set"),
        bad(
            "a sha256 on a path source",
            KERNEL
                + """
                rootfs:
                  source: {path: r, sha256: "%s"}
                """
                    .formatted(SHA),
            "spec.rootfs.source",
            "sha256 is only used with a url source"),
        bad(
            "an initrd url without sha256",
            KERNEL
                + """
                initrd: {url: "https://example.org/initrd"}
                """,
            "spec.initrd",
            "a url source requires sha256"),
        bad(
            "a burst without a size",
            KERNEL
                + """
                rootfs:
                  source: {path: r}
                  rateLimiter:
                    bandwidth: {oneTimeBurst: 1000}
                """,
            "spec.rootfs.rateLimiter.bandwidth",
            "oneTimeBurst requires a non-zero size"),
        bad(
            "a size without a refill time",
            KERNEL
                + """
                network:
                  - name: eth0
                    txRateLimiter:
                      ops: {size: 1000}
                """,
            "spec.network[0].txRateLimiter.ops",
            "size and refillTimeMs must both be set (non-zero) or both be 0"),
        bad(
            "a refill time without a size",
            KERNEL
                + """
                drives:
                  - name: d
                    source: {path: d}
                    rateLimiter:
                      bandwidth: {refillTimeMs: 100}
                """,
            "spec.drives[0].rateLimiter.bandwidth",
            "size and refillTimeMs must both be set (non-zero) or both be 0"),
        bad(
            "two drives with one name",
            KERNEL
                + """
                drives:
                  - {name: d, source: {path: a}}
                  - {name: d, source: {path: b}}
                """,
            "spec.drives",
            "drive names must be unique"),
        bad(
            "a drive called rootfs",
            KERNEL
                + """
                drives:
                  - {name: rootfs, source: {path: a}}
                """,
            "spec.drives",
            "drive names 'rootfs' and 'rng' are reserved: the VMM names the root disk and the"
                + " entropy device so"),
        bad(
            "two interfaces with one name",
            KERNEL
                + """
                network:
                  - name: eth0
                  - name: eth0
                """,
            "spec.network",
            "network interface names must be unique"),
        bad(
            "one MAC on two interfaces, written in different case",
            KERNEL
                + """
                network:
                  - {name: eth0, macAddress: "02:ab:00:00:00:01"}
                  - {name: eth1, macAddress: "02:AB:00:00:00:01"}
                """,
            "spec.network",
            "network interface MAC addresses must be unique"));
  }

  private static Case bad(String what, String spec, String path, String message) {
    return new Case(what, spec, path, message);
  }

  /** A spec that one rule rejects, at path, with message. */
  record Case(String what, String spec, String path, String message) {
    @Override
    public String toString() {
      return what;
    }
  }

  @ParameterizedTest(name = "{0}")
  @MethodSource("badSpecs")
  void aBadSpecIsRejectedWithTheRulesMessageAndNothingElse(Case a) {
    List<Violation> v = vm.validate(microVm(a.spec()));
    assertThat(v)
        .as(a.what())
        .extracting(Violation::path, Violation::message)
        .containsExactly(tuple(a.path(), a.message()));
  }

  @Test
  void aMicroVmSetTemplateIsHeldToTheSameRules() {
    Map<String, Object> s =
        yaml(
            """
            apiVersion: hearth.dev/v1alpha1
            kind: MicroVMSet
            metadata: {name: web, namespace: vms}
            spec:
              replicas: 2
              selector: {matchLabels: {app: web}}
              template:
                metadata: {labels: {app: web}}
                spec:
                  kernel:
                    source: {url: "https://example.org/vmlinux"}
                  drives:
                    - {name: rootfs, source: {path: a}}
            """);
    assertThat(set.validate(s))
        .extracting(Violation::path, Violation::message)
        .containsExactlyInAnyOrder(
            tuple(
                "spec.template.spec.drives",
                "drive names 'rootfs' and 'rng' are reserved: the VMM names the root disk and the"
                    + " entropy device so"),
            tuple("spec.template.spec.kernel.source", "a url source requires sha256"));
  }

  @Test
  void nodeNameMayBeSetOnCreateButNeverChanged() {
    Map<String, Object> pinned = microVm(KERNEL + "nodeName: worker-1\n");
    Map<String, Object> moved = microVm(KERNEL + "nodeName: worker-2\n");
    Map<String, Object> unpinned = microVm(KERNEL);
    assertThat(vm.validate(pinned)).as("create").isEmpty();
    assertThat(vm.validateUpdate(pinned, pinned)).as("unchanged").isEmpty();
    assertThat(vm.validateUpdate(moved, pinned))
        .extracting(Violation::path, Violation::message)
        // The rule sits at the root; its fieldPath names the field, as the server reports it.
        .containsExactly(tuple("spec.nodeName", "spec.nodeName is immutable"));
    // As before, a pin may be added later (and removed); only changing it is refused.
    assertThat(vm.validateUpdate(pinned, unpinned)).as("pinned later").isEmpty();
    assertThat(vm.validateUpdate(unpinned, pinned)).as("unpinned").isEmpty();
  }

  @Test
  void aSuspendedVmKeepsItsSizeUntilItRunsAgain() {
    Map<String, Object> suspended = microVm(KERNEL + "runState: Suspended\nmemoryMiB: 128\n");
    Map<String, Object> grown = microVm(KERNEL + "runState: Suspended\nmemoryMiB: 256\n");
    Map<String, Object> twoCpus = microVm(KERNEL + "runState: Suspended\nvcpus: 2\n");
    Map<String, Object> resumedGrown = microVm(KERNEL + "runState: Running\nmemoryMiB: 256\n");
    Map<String, Object> running = microVm(KERNEL + "memoryMiB: 128\n");
    String words =
        "vcpus and memoryMiB cannot change while the VM stays Suspended: its snapshot holds that"
            + " many vCPUs and that much memory (set runState Running with the change to boot it"
            + " afresh, or resume it first)";
    assertThat(vm.validateUpdate(grown, suspended))
        .extracting(Violation::path, Violation::message)
        .containsExactly(tuple("spec.runState", words));
    assertThat(vm.validateUpdate(twoCpus, suspended))
        .extracting(Violation::message)
        .containsExactly(words);
    // Running again with the change boots afresh; suspending with a change is fine too.
    assertThat(vm.validateUpdate(resumedGrown, suspended)).isEmpty();
    assertThat(vm.validateUpdate(grown, running)).isEmpty();
    assertThat(vm.validateUpdate(suspended, suspended)).isEmpty();
  }

  @Test
  void aMicroVmSetTemplateMayBeRetargetedToAnotherNode() {
    String setYaml =
        """
        apiVersion: hearth.dev/v1alpha1
        kind: MicroVMSet
        metadata: {name: web, namespace: vms}
        spec:
          replicas: 2
          selector: {matchLabels: {app: web}}
          template:
            metadata: {labels: {app: web}}
            spec:
              vcpus: 1
              memoryMiB: 128
              kernel:
                source: {path: linux/vmlinux}
              nodeName: %s
        """;
    Map<String, Object> onOne = yaml(setYaml.formatted("worker-1"));
    Map<String, Object> onTwo = yaml(setYaml.formatted("worker-2"));
    assertThat(set.validate(onOne)).as("create").isEmpty();
    assertThat(set.validateUpdate(onTwo, onOne)).as("retargeted").isEmpty();
  }

  @Test
  void theShippedExamplesPass() throws IOException {
    Path examples = Path.of(System.getProperty("hearth.examples", "../examples"));
    List<Path> files;
    try (Stream<Path> s = Files.list(examples)) {
      files = s.filter(p -> p.toString().endsWith(".yaml")).sorted().toList();
    }
    assertThat(files).isNotEmpty();
    for (Path f : files) {
      for (Map<String, Object> doc : documents(f)) {
        CelRules rules =
            switch (String.valueOf(doc.get("kind"))) {
              case "MicroVM" -> vm;
              case "MicroVMSet" -> set;
              case "MicroVMNode" -> node;
              default -> null;
            };
        if (rules != null) {
          assertThat(rules.validate(doc)).as(f.getFileName().toString()).isEmpty();
        }
      }
    }
  }

  @SuppressWarnings("unchecked")
  private static List<Map<String, Object>> documents(Path f) throws IOException {
    try (var parser = YAML.getFactory().createParser(f.toFile())) {
      return YAML.readValues(parser, Map.class).readAll().stream()
          .map(m -> (Map<String, Object>) m)
          .toList();
    }
  }
}
