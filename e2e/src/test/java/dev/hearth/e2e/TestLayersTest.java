package dev.hearth.e2e;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;

/**
 * On a host without {@code /dev/kvm}, the build runs each module's {@code *KvmIT} classes inside
 * the nested-KVM harness through that module's {@code NestedKvmSuiteIT} (profile nested-kvm). A
 * module with KVM tests but no such suite would have them silently dropped there.
 */
class TestLayersTest {
  private static final Path ROOT = ProjectRoot.find();

  @Test
  void everyModuleWithKvmTestsCanRunThemInsideTheHarness() throws IOException {
    List<Path> modules;
    try (Stream<Path> dirs = Files.list(ROOT)) {
      modules = dirs.filter(d -> Files.isRegularFile(d.resolve("pom.xml"))).toList();
    }
    assertThat(modules).isNotEmpty();
    for (Path module : modules) {
      Path tests = module.resolve("src/test/java");
      if (!Files.isDirectory(tests)) {
        continue;
      }
      List<String> names;
      try (Stream<Path> files = Files.walk(tests)) {
        names = files.map(p -> p.getFileName().toString()).toList();
      }
      if (names.stream().anyMatch(n -> n.endsWith("KvmIT.java"))) {
        assertThat(names)
            .as("%s has *KvmIT tests, so it needs a NestedKvmSuiteIT", ROOT.relativize(module))
            .contains("NestedKvmSuiteIT.java");
      }
    }
  }
}
