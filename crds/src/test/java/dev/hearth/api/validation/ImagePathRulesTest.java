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
        "/etc/passwd|spec.initrd.path: must be relative to the node's images root",
        "../../etc/passwd|spec.initrd.path: must not contain '.' or '..' segments",
        "linux/../../x|spec.initrd.path: must not contain '.' or '..' segments",
        "linux/..|spec.initrd.path: must not contain '.' or '..' segments",
        "./hello.elf|spec.initrd.path: must not contain '.' or '..' segments",
        "linux//vmlinux|spec.initrd.path: must not contain empty segments",
        "linux/|spec.initrd.path: must not contain empty segments",
      })
  void aPathThatCouldLeaveTheRootIsRefused(String path, String message) {
    assertThat(errorsFor(path)).anySatisfy(e -> assertThat(e).startsWith(message));
  }

  @Test
  void controlCharactersAndOverlongPathsAreRefused() {
    assertThat(errorsFor("linux/vm\nlinux"))
        .containsExactly("spec.initrd.path: must not contain control characters");
    assertThat(errorsFor("a\u0000b"))
        .containsExactly("spec.initrd.path: must not contain control characters");
    assertThat(errorsFor("x".repeat(1025)))
        .contains("spec.initrd.path: must be at most 1024 characters");
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
            "spec.kernel.source.path: must be relative to the node's images root, without a"
                + " leading '/'",
            "spec.rootfs.source.path: must be relative to the node's images root, without a"
                + " leading '/'",
            "spec.drives[0].source.path: must be relative to the node's images root, without a"
                + " leading '/'");
  }
}
