package dev.hearth.e2e;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The README's commands, CI's entry point and the JDK finder that ./mvnw and ./hearth share. */
class BuildScriptsTest {
  private static final Path ROOT = ProjectRoot.find();

  record Result(int status, String stdout, String stderr) {}

  private static Result sh(String script, Map<String, String> env) throws Exception {
    ProcessBuilder pb = new ProcessBuilder("sh", "-c", script).directory(ROOT.toFile());
    pb.environment().remove("JAVA_HOME");
    pb.environment().putAll(env);
    Process p = pb.start();
    assertThat(p.waitFor(30, TimeUnit.SECONDS)).as("script finished").isTrue();
    return new Result(
        p.exitValue(),
        new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8),
        new String(p.getErrorStream().readAllBytes(), StandardCharsets.UTF_8));
  }

  /** A fake JDK home: bin/java, bin/javac and a release file of the given feature version. */
  private static Path fakeJdk(Path root, String name, int feature) throws IOException {
    Path home = Files.createDirectories(root.resolve(name).resolve("bin"));
    for (String tool : List.of("java", "javac")) {
      Path exe = home.resolve(tool);
      Files.writeString(exe, "#!/bin/sh\nexit 0\n");
      assertThat(exe.toFile().setExecutable(true)).isTrue();
    }
    Files.writeString(
        root.resolve(name).resolve("release"), "JAVA_VERSION=\"" + feature + ".0.1\"\n");
    return root.resolve(name);
  }

  @Test
  void findsTheNewestJdk25OrLaterWhenJavaHomeIsOld(@TempDir Path jvms) throws Exception {
    Path old = fakeJdk(jvms, "jdk-17", 17);
    fakeJdk(jvms, "jdk-25", 25);
    fakeJdk(jvms, "jdk-26", 26);
    Result r =
        sh(
            ". ./.mvn/find-jdk.sh && echo \"$JAVA_HOME\"",
            Map.of("JAVA_HOME", old.toString(), "HEARTH_JVM_ROOT", jvms.toString()));
    assertThat(r.status()).isZero();
    assertThat(r.stdout().trim()).isEqualTo(jvms.resolve("jdk-26").toString());
  }

  @Test
  void keepsAJavaHomeThatIsNewEnough(@TempDir Path jvms) throws Exception {
    Path mine = fakeJdk(jvms, "mine", 25);
    fakeJdk(jvms, "jdk-26", 26);
    Result r =
        sh(
            ". ./.mvn/find-jdk.sh && echo \"$JAVA_HOME\"",
            Map.of("JAVA_HOME", mine.toString(), "HEARTH_JVM_ROOT", jvms.toString()));
    assertThat(r.stdout().trim()).isEqualTo(mine.toString());
  }

  @Test
  void failsWithOneLineSayingWhatToInstall(@TempDir Path jvms) throws Exception {
    fakeJdk(jvms, "jdk-17", 17);
    Result r = sh("./mvnw -v", Map.of("HEARTH_JVM_ROOT", jvms.toString()));
    assertThat(r.status()).isEqualTo(1);
    assertThat(r.stderr().lines().toList())
        .singleElement()
        .asString()
        .contains("no JDK 25 or newer found")
        .contains("install");
  }

  @Test
  void ciRunsTheReadmeTestCommandVerbatim() throws IOException {
    List<String> commands = readmeCommands();
    assertThat(commands).as("the README opens with exactly two commands").hasSize(2);
    assertThat(commands.get(0)).startsWith("./hearth run examples/").endsWith(".yaml");
    assertThat(ROOT.resolve(commands.get(0).substring("./hearth run ".length()))).isRegularFile();
    assertThat(Files.readAllLines(ROOT.resolve(".ci/run"))).contains(commands.get(1));
  }

  /** The lines of the README's first fenced code block. */
  private static List<String> readmeCommands() throws IOException {
    String readme = Files.readString(ROOT.resolve("README.md"));
    int open = readme.indexOf("```sh\n");
    assertThat(open).as("README has a ```sh block").isNotNegative();
    int close = readme.indexOf("```", open + 6);
    return readme.substring(open + 6, close).lines().filter(l -> !l.isBlank()).toList();
  }
}
