package dev.hearth.operator.support;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.hearth.api.client.MetadataPatches;
import dev.hearth.api.v1alpha1.HearthApi;
import dev.hearth.api.v1alpha1.MicroVM;
import io.fabric8.kubernetes.client.utils.KubernetesSerialization;
import io.fabric8.zjsonpatch.JsonPatch;
import io.fabric8.zjsonpatch.JsonPatchException;
import org.junit.jupiter.api.Test;

/**
 * The metadata patches, applied with RFC 6902 semantics to the JSON the API server holds (not to
 * the client's model, which reports absent labels and finalizers as empty collections).
 */
class MetadataPatchesTest {
  private static final ObjectMapper JSON = new ObjectMapper();
  private static final KubernetesSerialization SERIALIZATION = new KubernetesSerialization();

  /** A MicroVM as the API server stores it when its author set no labels and no finalizers. */
  private static final String BARE =
      """
      {"apiVersion": "hearth.dev/v1alpha1", "kind": "MicroVM",
       "metadata": {"name": "a", "namespace": "vms", "uid": "u1", "resourceVersion": "7"}}
      """;

  private static final String LABELLED =
      """
      {"apiVersion": "hearth.dev/v1alpha1", "kind": "MicroVM",
       "metadata": {"name": "a", "namespace": "vms", "uid": "u1", "resourceVersion": "7",
                    "labels": {"app": "web"}, "finalizers": ["example.com/keep"]}}
      """;

  @Test
  void bindingAVmWithoutLabelsAddsTheWholeLabelMap() throws Exception {
    MicroVM vm = SERIALIZATION.unmarshal(BARE, MicroVM.class);
    // The case that reached the real API server: absent on the server, empty in the client.
    assertThat(vm.getMetadata().getLabels()).isNotNull().isEmpty();

    JsonNode patched = apply(MetadataPatches.bindMetadata(vm, "node-1"), BARE);

    assertThat(patched.at("/metadata/labels").properties())
        .singleElement()
        .satisfies(
            e -> {
              assertThat(e.getKey()).isEqualTo(HearthApi.NODE_LABEL);
              assertThat(e.getValue().asText()).isEqualTo("node-1");
            });
    assertThat(patched.at("/metadata/finalizers").get(0).asText())
        .isEqualTo(HearthApi.AGENT_FINALIZER);
    assertThat(patched.at("/metadata/resourceVersion").asText()).isEqualTo("7");
  }

  @Test
  void aPatchAddingOneKeyUnderAbsentLabelsIsRefusedAsTheServerRefusesIt() throws Exception {
    // What the old code sent for a VM without labels: proves the applier is as strict as the
    // server, so the test above would fail on that code.
    String oneKey =
        """
        [{"op": "add", "path": "/metadata/labels/hearth.dev~1node", "value": "node-1"}]
        """;
    assertThatThrownBy(() -> apply(oneKey, BARE)).isInstanceOf(JsonPatchException.class);
  }

  @Test
  void bindingKeepsOtherLabelsAndFinalizers() throws Exception {
    MicroVM vm = SERIALIZATION.unmarshal(LABELLED, MicroVM.class);

    JsonNode patched = apply(MetadataPatches.bindMetadata(vm, "node-1"), LABELLED);

    assertThat(patched.at("/metadata/labels/app").asText()).isEqualTo("web");
    assertThat(patched.at("/metadata/labels").get(HearthApi.NODE_LABEL).asText())
        .isEqualTo("node-1");
    assertThat(patched.at("/metadata/finalizers").toString())
        .isEqualTo("[\"example.com/keep\",\"" + HearthApi.AGENT_FINALIZER + "\"]");
  }

  @Test
  void bindingTwiceWritesNothingAndUnbindingRemovesOnlyHearthsEntries() throws Exception {
    MicroVM vm = SERIALIZATION.unmarshal(LABELLED, MicroVM.class);
    JsonNode bound = apply(MetadataPatches.bindMetadata(vm, "node-1"), LABELLED);
    MicroVM boundVm = SERIALIZATION.unmarshal(bound.toString(), MicroVM.class);

    assertThat(MetadataPatches.bindMetadata(boundVm, "node-1")).isNull();

    JsonNode unbound = apply(MetadataPatches.unbindMetadata(boundVm), bound.toString());
    assertThat(unbound.at("/metadata/labels").toString()).isEqualTo("{\"app\":\"web\"}");
    assertThat(unbound.at("/metadata/finalizers").toString()).isEqualTo("[\"example.com/keep\"]");
    assertThat(MetadataPatches.unbindMetadata(SERIALIZATION.unmarshal(BARE, MicroVM.class)))
        .isNull();
  }

  private static JsonNode apply(String patch, String target) throws Exception {
    assertThat(patch).isNotNull();
    return JsonPatch.apply(JSON.readTree(patch), JSON.readTree(target));
  }
}
