package dev.hearth.api.v1alpha1;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.fabric8.kubernetes.api.model.apiextensions.v1.CustomResourceColumnDefinition;
import io.fabric8.kubernetes.api.model.apiextensions.v1.CustomResourceColumnDefinitionBuilder;
import io.fabric8.kubernetes.api.model.apiextensions.v1.CustomResourceDefinition;
import io.fabric8.kubernetes.client.utils.KubernetesSerialization;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The build step that finishes the generated CRDs: it restores declared column order and fills in
 * class descriptions, and changes nothing else.
 */
class CrdPostProcessorTest {
  private static final KubernetesSerialization SERIALIZATION = new KubernetesSerialization();

  private static String generated(String plural) throws IOException {
    return Files.readString(
        GeneratedCrds.generatedDir().resolve(plural + "." + HearthApi.GROUP + "-v1.yml"));
  }

  private static List<CustomResourceColumnDefinition> columns(CustomResourceDefinition crd) {
    return crd.getSpec().getVersions().get(0).getAdditionalPrinterColumns();
  }

  @Test
  void writesAsTheGeneratorDoesSoAnOrderedFileIsLeftByteForByte() throws IOException {
    for (String plural : List.of("microvms", "microvmsets", "microvmnodes")) {
      String yaml = generated(plural);
      assertThat(yaml).startsWith(CrdPostProcessor.HEADER);
      CustomResourceDefinition crd = SERIALIZATION.unmarshal(yaml, CustomResourceDefinition.class);
      assertThat(CrdPostProcessor.write(crd)).as("round trip of " + plural).isEqualTo(yaml);
      assertThat(CrdPostProcessor.reorder(yaml)).as("idempotent on " + plural).isEqualTo(yaml);
    }
  }

  @Test
  void putsShuffledColumnsBackInDeclaredOrder() throws IOException {
    String ordered = generated("microvms");
    CustomResourceDefinition crd = SERIALIZATION.unmarshal(ordered, CustomResourceDefinition.class);
    List<CustomResourceColumnDefinition> reversed = new ArrayList<>(columns(crd));
    Collections.reverse(reversed);
    crd.getSpec().getVersions().get(0).setAdditionalPrinterColumns(reversed);
    String shuffled = CrdPostProcessor.write(crd);
    assertThat(shuffled).isNotEqualTo(ordered);

    assertThat(CrdPostProcessor.reorder(shuffled)).isEqualTo(ordered);
    assertThat(CrdPostProcessor.declaredOrder(MicroVM.class))
        .containsExactly(
            "Phase", "Node", "IP", "Ready", "Restarts", "Age", "RunState", "vCPUs", "MemoryMiB");
  }

  @Test
  void refusesAColumnTheClassDoesNotDeclare() throws IOException {
    CustomResourceDefinition crd =
        SERIALIZATION.unmarshal(generated("microvms"), CustomResourceDefinition.class);
    columns(crd)
        .add(
            new CustomResourceColumnDefinitionBuilder()
                .withName("Restarts")
                .withJsonPath(".status.restartCount")
                .withType("integer")
                .build());
    String yaml = CrdPostProcessor.write(crd);
    assertThatThrownBy(() -> CrdPostProcessor.reorder(yaml))
        .hasMessageContaining("microvms.hearth.dev")
        .hasMessageContaining("Restarts");
  }

  @Test
  void mainRewritesInPlaceAndIntoTheCommittedDirectory(@TempDir Path tmp) throws IOException {
    Path gen = Files.createDirectories(tmp.resolve("gen"));
    Path committed = tmp.resolve("committed");
    String ordered = generated("microvmnodes");
    CustomResourceDefinition crd = SERIALIZATION.unmarshal(ordered, CustomResourceDefinition.class);
    Collections.reverse(columns(crd));
    Files.writeString(gen.resolve("microvmnodes.hearth.dev-v1.yml"), CrdPostProcessor.write(crd));

    CrdPostProcessor.main(new String[] {gen.toString(), committed.toString()});

    assertThat(gen.resolve("microvmnodes.hearth.dev-v1.yml")).hasContent(ordered);
    assertThat(committed.resolve("microvmnodes.hearth.dev-v1.yml")).hasContent(ordered);
  }

  @Test
  void describesTheRootAndListItemsFromTheirClasses() throws IOException {
    CustomResourceDefinition crd =
        SERIALIZATION.unmarshal(generated("microvms"), CustomResourceDefinition.class);
    var root = GeneratedCrds.root(crd);
    root.setDescription(null);
    GeneratedCrds.at(crd, "spec.drives[]").setDescription(null);
    GeneratedCrds.at(crd, "spec").setDescription(null);
    String stripped = CrdPostProcessor.write(crd);

    CustomResourceDefinition done =
        SERIALIZATION.unmarshal(CrdPostProcessor.reorder(stripped), CustomResourceDefinition.class);
    assertThat(GeneratedCrds.root(done).getDescription()).startsWith("A KVM microVM");
    assertThat(GeneratedCrds.at(done, "spec").getDescription()).startsWith("The desired microVM");
    assertThat(GeneratedCrds.at(done, "spec.drives[]").getDescription())
        .startsWith("An extra virtio-blk disk");
    // A property's own description wins over its class's.
    assertThat(GeneratedCrds.at(done, "spec.drives").getDescription())
        .startsWith("Extra virtio-blk disks");
  }
}
