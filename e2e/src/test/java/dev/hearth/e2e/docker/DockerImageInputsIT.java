package dev.hearth.e2e.docker;

import static org.assertj.core.api.Assertions.assertThat;

import dev.hearth.e2e.ProjectRoot;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.stream.Stream;
import org.junit.jupiter.api.DynamicTest;
import org.junit.jupiter.api.TestFactory;

/**
 * No Docker engine runs here, so the images are not built; instead, after `package` (Failsafe runs
 * in integration-test, once the operator and node-agent modules, which e2e follows in the reactor,
 * are packaged), each Dockerfile under docker/ must find every file it copies, and its entry jar
 * must find its Class-Path. The list of files comes from the Dockerfile itself.
 */
class DockerImageInputsIT {
  private static final Path ROOT = ProjectRoot.find();

  @TestFactory
  Stream<DynamicTest> everyDockerfileFindsWhatItCopies() throws IOException {
    List<Path> dockerfiles;
    try (Stream<Path> files = Files.list(ROOT.resolve("docker"))) {
      dockerfiles = files.filter(p -> p.toString().endsWith(".Dockerfile")).sorted().toList();
    }
    assertThat(dockerfiles)
        .extracting(p -> p.getFileName().toString())
        .containsExactly("agent.Dockerfile", "operator.Dockerfile");
    return dockerfiles.stream()
        .map(d -> DynamicTest.dynamicTest(d.getFileName().toString(), () -> check(d)));
  }

  private static void check(Path dockerfile) throws IOException {
    ImageInputs inputs = new ImageInputs(ROOT, Dockerfile.parse(dockerfile));
    List<String> problems = inputs.problems();
    assertThat(problems).as("%s needs files the build did not produce", dockerfile).isEmpty();
  }
}
