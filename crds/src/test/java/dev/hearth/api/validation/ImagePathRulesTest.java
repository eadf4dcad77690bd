package dev.hearth.api.validation;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * Image paths name files under the node's images root: the CRD refuses every path that could leave
 * it or be read two ways, with a worded message at the path's field, wherever an image source
 * appears.
 */
class ImagePathRulesTest {
  private static final ObjectMapper JSON = new ObjectMapper();
  private static final CrdValidator VM = CrdValidator.forKind("MicroVM");

  /** How the server (and so the validator) begins a CEL rule's refusal of a string field. */
  private static final String INVALID = "spec.%s: Invalid value: \"string\": ";

  private static List<String> errorsFor(String path) {
    ObjectNode vm = JSON.createObjectNode();
    vm.put("apiVersion", "hearth.dev/v1alpha1").put("kind", "MicroVM");
    vm.putObject("metadata").put("name", "t");
    ObjectNode spec = vm.putObject("spec");
    spec.putObject("kernel").putObject("source").put("path", "hello.elf");
    spec.putObject("initrd").put("path", path);
    return VM.validate(vm);
  }

  @ParameterizedTest
  @ValueSource(strings = {"hello.elf", "linux/vmlinux", "a/b/c-1.2_x.ext4", "..hidden", "x..y"})
  void aPlainRelativePathPasses(String path) {
    assertThat(errorsFor(path)).isEmpty();
  }

  @ParameterizedTest
  @CsvSource(
      delimiter = '|',
      value = {
        "/etc/passwd|must be relative to the node's images root",
        "../../etc/passwd|must not contain '.' or '..' segments",
        "linux/../../x|must not contain '.' or '..' segments",
        "linux/..|must not contain '.' or '..' segments",
        "./hello.elf|must not contain '.' or '..' segments",
        "linux//vmlinux|must not contain empty segments",
        "linux/|must not contain empty segments",
      })
  void aPathThatCouldLeaveTheRootIsRefused(String path, String message) {
    assertThat(errorsFor(path))
        .anySatisfy(e -> assertThat(e).startsWith(INVALID.formatted("initrd.path") + message));
  }

  @Test
  void controlCharactersAndOverlongPathsAreRefused() {
    assertThat(errorsFor("linux/vm\nlinux"))
        .containsExactly(INVALID.formatted("initrd.path") + "must not contain control characters");
    assertThat(errorsFor("a\u0000b"))
        .containsExactly(INVALID.formatted("initrd.path") + "must not contain control characters");
    assertThat(errorsFor("x".repeat(1025)))
        .contains("spec.initrd.path: Too long: may not be more than 1024 bytes");
    assertThat(errorsFor("x".repeat(1024))).isEmpty();
  }

  @Test
  void everyImageSourceCarriesThePathRules() {
    ObjectNode vm = JSON.createObjectNode();
    vm.put("apiVersion", "hearth.dev/v1alpha1").put("kind", "MicroVM");
    vm.putObject("metadata").put("name", "t");
    ObjectNode spec = vm.putObject("spec");
    spec.putObject("kernel").putObject("source").put("path", "/k");
    spec.putObject("rootfs").putObject("source").put("path", "/r");
    spec.putArray("drives").addObject().put("name", "d").putObject("source").put("path", "/d");
    assertThat(VM.validate(vm))
        .containsExactlyInAnyOrder(
            INVALID.formatted("kernel.source.path")
                + "must be relative to the node's images root, without a leading '/'",
            INVALID.formatted("rootfs.source.path")
                + "must be relative to the node's images root, without a leading '/'",
            INVALID.formatted("drives[0].source.path")
                + "must be relative to the node's images root, without a leading '/'");
  }
}
