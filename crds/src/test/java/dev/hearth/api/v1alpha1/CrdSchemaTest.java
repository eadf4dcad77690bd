package dev.hearth.api.v1alpha1;

import static dev.hearth.api.v1alpha1.GeneratedCrds.at;
import static dev.hearth.api.v1alpha1.GeneratedCrds.load;
import static dev.hearth.api.v1alpha1.GeneratedCrds.rules;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.tuple;

import io.fabric8.kubernetes.api.model.apiextensions.v1.CustomResourceColumnDefinition;
import io.fabric8.kubernetes.api.model.apiextensions.v1.CustomResourceDefinition;
import io.fabric8.kubernetes.api.model.apiextensions.v1.CustomResourceDefinitionVersion;
import io.fabric8.kubernetes.api.model.apiextensions.v1.JSONSchemaProps;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import org.junit.jupiter.api.Test;

/**
 * Checks the generated schemas for every bound and rule the API server enforces. The mock server
 * used elsewhere enforces none of them, so this is where they are pinned.
 */
class CrdSchemaTest {
  private final CustomResourceDefinition vm = load("microvms");
  private final CustomResourceDefinition set = load("microvmsets");
  private final CustomResourceDefinition node = load("microvmnodes");

  @Test
  void namesScopesAndCategories() {
    assertThat(vm.getSpec().getScope()).isEqualTo("Namespaced");
    assertThat(vm.getSpec().getNames().getShortNames()).containsExactly("mvm");
    // mvms would read as "MicroVMs"; the set is mvmset.
    assertThat(set.getSpec().getNames().getShortNames()).containsExactly("mvmset", "mvmsets");
    assertThat(node.getSpec().getNames().getShortNames()).containsExactly("mvmnode");
    assertThat(node.getSpec().getScope()).isEqualTo("Cluster");
    for (CustomResourceDefinition crd : List.of(vm, set, node)) {
      assertThat(crd.getSpec().getGroup()).isEqualTo("hearth.dev");
      assertThat(crd.getSpec().getNames().getCategories()).containsExactly("hearth");
      CustomResourceDefinitionVersion v = crd.getSpec().getVersions().get(0);
      assertThat(v.getName()).isEqualTo("v1alpha1");
      assertThat(v.getSubresources().getStatus()).as("status subresource").isNotNull();
    }
  }

  @Test
  void printerColumnsComeInTheirDeclaredOrder() {
    // kubectl get shows columns in list order, those of priority 1 only with -o wide.
    assertThat(columns(vm))
        .extracting(
            CustomResourceColumnDefinition::getName,
            CustomResourceColumnDefinition::getJsonPath,
            CustomResourceColumnDefinition::getPriority)
        .containsExactly(
            tuple("Phase", ".status.phase", 0),
            tuple("Node", ".status.nodeName", 0),
            tuple("IP", ".status.network[0].ip", 0),
            tuple("Ready", ".status.conditions[?(@.type==\"Ready\")].status", 0),
            tuple("Restarts", ".status.restartCount", 0),
            tuple("Age", ".metadata.creationTimestamp", 0),
            tuple("RunState", ".status.runState", 1),
            tuple("vCPUs", ".spec.vcpus", 1),
            tuple("MemoryMiB", ".spec.memoryMiB", 1));
    assertThat(columns(vm))
        .extracting(CustomResourceColumnDefinition::getType)
        .containsExactly(
            "string", "string", "string", "string", "integer", "date", "string", "integer",
            "integer");
    assertThat(columns(vm).get(0).getDescription()).startsWith("Where the VM is in its life");
    assertThat(columns(set))
        .extracting(CustomResourceColumnDefinition::getName)
        .containsExactly("Desired", "Current", "Ready", "Age");
    assertThat(columns(node))
        .extracting(CustomResourceColumnDefinition::getName)
        .containsExactly("Ready", "vCPUs", "MemoryMiB", "VMs", "Agent", "Age");
  }

  @Test
  void microVmSetHasScaleSubresource() {
    var scale = set.getSpec().getVersions().get(0).getSubresources().getScale();
    assertThat(scale.getSpecReplicasPath()).isEqualTo(".spec.replicas");
    assertThat(scale.getStatusReplicasPath()).isEqualTo(".status.replicas");
    assertThat(scale.getLabelSelectorPath()).isEqualTo(".status.labelSelector");
    assertThat(at(set, "spec.replicas").getMinimum()).isEqualTo(0.0);
    assertThat(at(set, "spec").getRequired()).contains("selector", "template");
    assertThat(at(set, "spec.template").getRequired()).contains("spec");
    assertThat(at(set, "spec.template.spec").getRequired()).doesNotContain("kernel");
  }

  @Test
  void sizeBoundsAndDefaults() {
    JSONSchemaProps vcpus = at(vm, "spec.vcpus");
    assertThat(vcpus.getMinimum()).isEqualTo(1.0);
    assertThat(vcpus.getMaximum()).isEqualTo(32.0);
    assertThat(vcpus.getDefault().asInt()).isEqualTo(1);
    JSONSchemaProps mem = at(vm, "spec.memoryMiB");
    assertThat(mem.getMinimum()).isEqualTo(16.0);
    assertThat(mem.getMaximum()).isEqualTo(262144.0);
    assertThat(mem.getDefault().asInt()).isEqualTo(128);
    // spec.kernel or spec.container, by a CEL rule.
    assertThat(at(vm, "spec").getRequired()).isEmpty();
    assertThat(at(vm, "spec.container").getRequired()).containsExactly("image");
    assertThat(at(vm, "spec.container.args").getMaxItems()).isEqualTo(256L);
    assertThat(at(vm, "spec.container.args").getItems().getSchema().getMaxLength())
        .isEqualTo(4096L);
    assertThat(at(vm, "spec.container.env").getMaxItems()).isEqualTo(128L);
    assertThat(at(vm, "spec.kernel").getRequired()).containsExactly("source");
    assertThat(at(vm, "spec.vsock.cid").getMinimum()).isEqualTo(3.0);
    assertThat(at(vm, "spec.drives").getMaxItems()).isEqualTo(8L);
    assertThat(at(vm, "spec.kernel.cmdline").getMaxLength()).isEqualTo(1024L);
    assertThat(at(vm, "spec.rootfs.rateLimiter.ops.refillTimeMs").getMaximum())
        .isEqualTo(9223372036.0);
    assertThat(at(vm, "spec.nodeName").getMaxLength()).isEqualTo(63L);
    assertThat(at(vm, "spec.tolerations").getMaxItems()).isEqualTo(64L);
    assertThat(at(vm, "spec.nodeSelector").getMaxProperties()).isEqualTo(64L);
    assertThat(at(vm, "spec.nodeSelector").getAdditionalProperties().getSchema().getMaxLength())
        .isEqualTo(63L);
    assertThat(at(vm, "spec.network").getMaxItems()).isEqualTo(8L);
    assertThat(at(vm, "spec.drives[].serial").getMaxLength()).isEqualTo(20L);
    assertThat(at(vm, "spec.drives[]").getRequired()).containsExactlyInAnyOrder("name", "source");
    assertThat(at(vm, "spec.drives[].readOnly").getDefault().asBoolean()).isFalse();
    assertThat(at(vm, "spec.rootfs.readOnly").getDefault().asBoolean()).isFalse();
  }

  @Test
  void restartPolicyIsAnEnumDefaultingToAlways() {
    JSONSchemaProps p = at(vm, "spec.restartPolicy");
    assertThat(p.getEnum())
        .extracting(n -> n.asText())
        .containsExactlyInAnyOrder("Always", "OnFailure", "Never");
    assertThat(p.getDefault().asText()).isEqualTo("Always");
    assertThat(at(vm, "status.phase").getEnum())
        .extracting(n -> n.asText())
        .containsExactlyInAnyOrder(
            "Pending", "Scheduled", "Starting", "Running", "Succeeded", "Failed", "Unknown");
  }

  @Test
  void tokenBucketFieldsAreNonNegativeWithCrossFieldRules() {
    for (String bucket :
        List.of(
            "spec.rootfs.rateLimiter.bandwidth",
            "spec.rootfs.rateLimiter.ops",
            "spec.drives[].rateLimiter.bandwidth",
            "spec.network[].rxRateLimiter.ops",
            "spec.network[].txRateLimiter.bandwidth")) {
      for (String f : List.of("size", "refillTimeMs", "oneTimeBurst")) {
        JSONSchemaProps p = at(vm, bucket + "." + f);
        assertThat(p.getMinimum()).as(bucket + "." + f).isEqualTo(0.0);
        assertThat(p.getType()).as(bucket + "." + f).isEqualTo("integer");
      }
      assertThat(rules(at(vm, bucket)))
          .as(bucket)
          .contains(
              "!has(self.oneTimeBurst) || self.oneTimeBurst == 0 || (has(self.size) && self.size > 0)");
    }
  }

  @Test
  void everyImageSourceCarriesItsCelRules() {
    for (String src :
        List.of(
            "spec.kernel.source",
            "spec.initrd",
            "spec.rootfs.source",
            "spec.drives[].source",
            "spec.template.spec.kernel.source")) {
      CustomResourceDefinition crd = src.startsWith("spec.template") ? set : vm;
      assertThat(rules(at(crd, src)))
          .as(src)
          .containsExactlyInAnyOrder(
              "(has(self.path) ? 1 : 0) + (has(self.url) ? 1 : 0) + (has(self.oci) ? 1 : 0) == 1",
              "!has(self.url) || has(self.sha256)",
              "!has(self.sha256) || has(self.url)");
      // A path names a file under the node's images root: relative, no way out, no control
      // characters, bounded; each rule worded, none a pattern.
      JSONSchemaProps path = at(crd, src + ".path");
      assertThat(path.getPattern()).as(src + ".path").isNull();
      assertThat(path.getMaxLength()).as(src + ".path").isEqualTo(ImageSource.MAX_PATH_LENGTH);
      assertThat(rules(path))
          .as(src + ".path")
          .contains(
              "!self.startsWith('/')",
              "!self.split('/').exists(s, s == '..' || s == '.')",
              "!self.contains('//') && !self.endsWith('/')");
    }
  }

  @Test
  void noPatternAnywhere() {
    // The API server prints a pattern's regex to the user; every format check is a CEL rule with
    // a message in words instead, image paths included.
    List<String> patterns = new ArrayList<>();
    for (CustomResourceDefinition crd : List.of(vm, set, node)) {
      collectPatterns(crd.getSpec().getNames().getKind(), GeneratedCrds.root(crd), patterns);
    }
    assertThat(patterns).as("schemas with a pattern").isEmpty();
  }

  private static void collectPatterns(String path, JSONSchemaProps s, List<String> out) {
    if (s.getPattern() != null) {
      out.add(path);
    }
    if (s.getProperties() != null) {
      s.getProperties().forEach((k, v) -> collectPatterns(path + "." + k, v, out));
    }
    if (s.getItems() != null && s.getItems().getSchema() != null) {
      collectPatterns(path + "[]", s.getItems().getSchema(), out);
    }
    if (s.getAdditionalProperties() != null && s.getAdditionalProperties().getSchema() != null) {
      collectPatterns(path + "{}", s.getAdditionalProperties().getSchema(), out);
    }
  }

  @Test
  void listsThatCarryCelRulesAreBoundedSoTheirCostEstimatePasses() {
    // The API server rejects a CRD whose CEL rules may cost too much; every list and string a
    // rule iterates over or compares must therefore have a maximum size.
    assertThat(at(vm, "spec.drives").getMaxItems()).isNotNull();
    assertThat(at(vm, "spec.drives[].name").getMaxLength()).isNotNull();
    assertThat(at(vm, "spec.network").getMaxItems()).isNotNull();
    assertThat(at(vm, "spec.network[].name").getMaxLength()).isNotNull();
    assertThat(at(vm, "spec.network[].macAddress").getMaxLength()).isNotNull();
    assertThat(rules(at(vm, "spec.drives")))
        .contains("self.all(d, self.exists_one(e, e.name == d.name))");
    assertThat(rules(at(vm, "spec.network")))
        .contains("self.all(n, self.exists_one(e, e.name == n.name))");
    // Immutability of a pin is MicroVM's alone (a rule at its root): a set's template may move.
    assertThat(at(vm, "spec.nodeName").getMaxLength()).isNotNull();
    assertThat(rules(at(vm, "spec.nodeName"))).noneSatisfy(r -> assertThat(r).contains("oldSelf"));
    assertThat(rules(GeneratedCrds.root(vm)))
        .anySatisfy(r -> assertThat(r).contains("self.spec.nodeName == oldSelf.spec.nodeName"));
    assertThat(rules(at(set, "spec.template.spec.nodeName")))
        .noneSatisfy(r -> assertThat(r).contains("oldSelf"));
  }

  @Test
  void microVmNodeCarriesCapacityKvmFactsAndConditions() {
    assertThat(at(node, "status.capacity.vcpus").getType()).isEqualTo("integer");
    assertThat(at(node, "status.allocatable.memoryMiB").getType()).isEqualTo("integer");
    assertThat(at(node, "status.kvm.present").getType()).isEqualTo("boolean");
    assertThat(at(node, "status.kvm.apiVersion").getType()).isEqualTo("integer");
    assertThat(at(node, "status.kvm.canRunLinux").getType()).isEqualTo("boolean");
    assertThat(at(node, "status.agentVersion").getType()).isEqualTo("string");
    assertThat(rules(at(node, "status.subnet"))).hasSize(3);
    assertThat(at(node, "status.conditions[].observedGeneration").getType()).isEqualTo("integer");
    assertThat(at(node, "spec.taints[].effect").getType()).isEqualTo("string");
  }

  @Test
  void everyHearthFieldHasADescription() {
    // Types Hearth borrows from core/v1 (tolerations, taints, conditions, label selector) are
    // documented upstream; every field Hearth defines must carry its own description.
    Set<String> borrowed = Set.of("tolerations", "taints", "conditions", "selector");
    List<String> missing = new ArrayList<>();
    for (CustomResourceDefinition crd : List.of(vm, set, node)) {
      for (String top : List.of("spec", "status")) {
        JSONSchemaProps s = GeneratedCrds.root(crd).getProperties().get(top);
        walk(crd.getSpec().getNames().getKind() + "." + top, s, borrowed, missing);
      }
    }
    assertThat(missing).as("fields without a description").isEmpty();
  }

  @Test
  void kubectlExplainFindsADescriptionOnEveryObjectAndListItem() {
    // kubectl explain shows a schema's description: the root, spec, status and every list item
    // (a class's @JsonClassDescription, which the build's CrdPostProcessor puts there).
    List<String> missing = new ArrayList<>();
    for (CustomResourceDefinition crd : List.of(vm, set, node)) {
      objects(crd.getSpec().getNames().getKind(), GeneratedCrds.root(crd), missing);
    }
    assertThat(missing).as("object schemas without a description").isEmpty();
  }

  private static void objects(String path, JSONSchemaProps s, List<String> missing) {
    if ("object".equals(s.getType())
        && (s.getDescription() == null || s.getDescription().isBlank())
        && !path.endsWith(".metadata")) {
      missing.add(path);
    }
    if (s.getProperties() != null) {
      s.getProperties().forEach((k, v) -> objects(path + "." + k, v, missing));
    }
    if (s.getItems() != null && s.getItems().getSchema() != null) {
      objects(path + "[]", s.getItems().getSchema(), missing);
    }
  }

  private static void walk(
      String path, JSONSchemaProps s, Set<String> borrowed, List<String> missing) {
    if (s.getProperties() != null) {
      for (var e : s.getProperties().entrySet()) {
        String child = path + "." + e.getKey();
        if (e.getValue().getDescription() == null || e.getValue().getDescription().isBlank()) {
          missing.add(child);
        }
        if (!borrowed.contains(e.getKey())) {
          walk(child, e.getValue(), borrowed, missing);
        }
      }
    }
    if (s.getItems() != null && s.getItems().getSchema() != null) {
      walk(path + "[]", s.getItems().getSchema(), borrowed, missing);
    }
  }

  private static List<CustomResourceColumnDefinition> columns(CustomResourceDefinition crd) {
    return crd.getSpec().getVersions().get(0).getAdditionalPrinterColumns();
  }
}
