package dev.hearth.common;

import static org.assertj.core.api.Assertions.assertThat;

import org.junit.jupiter.api.Test;

class HearthBuildTest {
  @Test
  void theVersionIsTheMavenProjectVersion() {
    // Surefire passes the project version; the resource was filtered by the same build.
    assertThat(HearthBuild.version())
        .isEqualTo(System.getProperty("hearth.projectVersion"))
        .matches("\\d+\\.\\d+\\.\\d+.*");
  }
}
