package dev.hearth.e2e.docker;

import static org.assertj.core.api.Assertions.assertThat;

import dev.hearth.agent.image.Ext4Builder;
import dev.hearth.agent.net.HostCommands;
import dev.hearth.e2e.ProjectRoot;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import org.junit.jupiter.api.Test;

/**
 * The agent image installs exactly the packages of the programs the agent runs on a node ({@link
 * HostCommands#PROGRAMS}, which HostCommands enforces, and {@link Ext4Builder#PROGRAMS}, which
 * makes root disks from OCI images): none missing (the agent would die on "Cannot run program"),
 * none extra.
 */
class AgentImageToolsTest {
  private static final Path DOCKERFILE = ProjectRoot.find().resolve("docker/agent.Dockerfile");

  @Test
  void theAgentImageInstallsThePackagesOfEveryProgramTheAgentRuns() throws IOException {
    assertThat(aptInstalled(Files.readString(DOCKERFILE)))
        .as("packages apt-get installs in %s", DOCKERFILE)
        .containsExactlyInAnyOrderElementsOf(programPackages());
  }

  /** The packages of the network's programs and of the image layer's (mke2fs, debugfs). */
  private static Set<String> programPackages() {
    Set<String> packages = new HashSet<>(HostCommands.PROGRAMS.values());
    packages.addAll(Ext4Builder.PROGRAMS.values());
    return packages;
  }

  @Test
  void readsThePackageListOfContinuedRunInstructions() {
    String dockerfile =
        """
        FROM x
        RUN apt-get update \\
         && apt-get install -y --no-install-recommends iproute2 procps \\
         && rm -rf /var/lib/apt/lists/*
        """;
    assertThat(aptInstalled(dockerfile)).containsExactlyInAnyOrder("iproute2", "procps");
  }

  /** Package names given to every {@code apt-get install} in the file. */
  static Set<String> aptInstalled(String dockerfile) {
    String joined = dockerfile.replaceAll("\\\\\\n", " ");
    Set<String> packages = new HashSet<>();
    for (String line : joined.lines().toList()) {
      List<String> words = new ArrayList<>(List.of(line.strip().split("\\s+")));
      for (int i = 0; i + 1 < words.size(); i++) {
        if (words.get(i).equals("apt-get") && words.get(i + 1).equals("install")) {
          for (String w : words.subList(i + 2, words.size())) {
            if (w.equals("&&") || w.equals(";")) {
              break;
            }
            if (!w.startsWith("-")) {
              packages.add(w);
            }
          }
        }
      }
    }
    return packages;
  }
}
