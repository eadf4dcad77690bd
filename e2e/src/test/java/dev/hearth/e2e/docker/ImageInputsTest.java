package dev.hearth.e2e.docker;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.io.IOException;
import java.io.OutputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.jar.Attributes;
import java.util.jar.JarOutputStream;
import java.util.jar.Manifest;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The Dockerfile check itself, on made-up contexts: it finds each way an image would break. */
class ImageInputsTest {
  @TempDir Path context;

  private static final String DOCKERFILE =
      """
      ARG BASE_IMAGE=eclipse-temurin:25-jre-noble
      FROM ${BASE_IMAGE}
      # a comment
      RUN apt-get update \\
       && apt-get install -y nftables
      COPY --chown=0:0 app/target/lib/ \\
           /opt/app/lib/
      COPY --from=builder /x /y
      COPY ["app/target/app.jar", "/opt/app/app.jar"]
      ENTRYPOINT ["java", "-jar", "/opt/app/app.jar"]
      CMD ["agent"]
      """;

  @Test
  void parsesContinuedFlaggedAndJsonFormCopiesButNotOtherStages() throws IOException {
    Dockerfile d = Dockerfile.parse(write("app.Dockerfile", DOCKERFILE));
    assertThat(d.copies())
        .containsExactly(
            new Dockerfile.Copy(6, java.util.List.of("app/target/lib/"), "/opt/app/lib/"),
            new Dockerfile.Copy(9, java.util.List.of("app/target/app.jar"), "/opt/app/app.jar"));
    assertThat(d.entrypoint()).containsExactly("java", "-jar", "/opt/app/app.jar");
  }

  @Test
  void acceptsAContextWithEverythingInPlace() throws IOException {
    build("lib/a.jar lib/b.jar", "a.jar", "b.jar");
    assertThat(check().problems()).isEmpty();
  }

  @Test
  void reportsAMissingJarByItsDockerfileLine() throws IOException {
    Files.createDirectories(context.resolve("app/target/lib"));
    Files.writeString(context.resolve("app/target/lib/a.jar"), "");
    assertThat(check().problems())
        .containsExactly(
            "app.Dockerfile:9: app/target/app.jar does not exist (is the module packaged?)",
            "ENTRYPOINT's /opt/app/app.jar is not copied into the image");
  }

  @Test
  void reportsAClassPathJarThatIsNotCopied() throws IOException {
    build("lib/a.jar lib/missing.jar", "a.jar");
    assertThat(check().problems())
        .containsExactly(
            "/opt/app/app.jar's Class-Path names lib/missing.jar, which is not copied beside it");
  }

  @Test
  void reportsAJarWithoutMainClass() throws IOException {
    build(null, "a.jar");
    Manifest m = new Manifest();
    m.getMainAttributes().put(Attributes.Name.MANIFEST_VERSION, "1.0");
    try (OutputStream out = Files.newOutputStream(context.resolve("app/target/app.jar"))) {
      new JarOutputStream(out, m).close();
    }
    assertThat(check().problems()).singleElement().asString().contains("has no Main-Class");
  }

  @Test
  void reportsSourcesTheDockerignoreLeavesOut() throws IOException {
    build("lib/a.jar", "a.jar");
    write("app.Dockerfile.dockerignore", "*\n!app/target/app.jar\n");
    assertThat(check().problems())
        .containsExactly("app.Dockerfile:6: app/target/lib/a.jar is excluded by the .dockerignore");

    write("app.Dockerfile.dockerignore", "*\n!app/target/app.jar\n!app/target/lib/\n");
    assertThat(check().problems()).isEmpty();
  }

  @Test
  void refusesWhatItCannotCheck() throws IOException {
    Path d = write("bad.Dockerfile", "FROM x\nCOPY app/*.jar /opt/\n");
    assertThatThrownBy(() -> Dockerfile.parse(d)).hasMessageContaining("wildcards are not checked");
  }

  private ImageInputs check() throws IOException {
    return new ImageInputs(context, Dockerfile.parse(write("app.Dockerfile", DOCKERFILE)));
  }

  /** app/target/app.jar with a Main-Class and the given Class-Path, and lib/ with these jars. */
  private void build(String classPath, String... libs) throws IOException {
    Path target = Files.createDirectories(context.resolve("app/target/lib")).getParent();
    for (String lib : libs) {
      Files.writeString(target.resolve("lib").resolve(lib), "");
    }
    Manifest m = new Manifest();
    m.getMainAttributes().put(Attributes.Name.MANIFEST_VERSION, "1.0");
    m.getMainAttributes().put(Attributes.Name.MAIN_CLASS, "app.Main");
    if (classPath != null) {
      m.getMainAttributes().put(Attributes.Name.CLASS_PATH, classPath);
    }
    try (OutputStream out = Files.newOutputStream(target.resolve("app.jar"))) {
      new JarOutputStream(out, m).close();
    }
  }

  private Path write(String name, String text) throws IOException {
    return Files.writeString(context.resolve(name), text);
  }
}
