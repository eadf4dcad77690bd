package dev.hearth.e2e.docker;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.FileSystems;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.PathMatcher;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.jar.Attributes;
import java.util.jar.JarFile;
import java.util.stream.Stream;

/**
 * Checks, without a Docker engine, that an image can be built and started from what the build
 * produced: every COPY source exists in the build context and is not excluded by the .dockerignore;
 * the ENTRYPOINT's {@code -jar} lands in the image; and every jar on that jar's manifest Class-Path
 * lands beside it.
 */
final class ImageInputs {
  private final Path context;
  private final Dockerfile dockerfile;
  private final List<Rule> ignoreRules;

  private record Rule(PathMatcher matcher, boolean include) {}

  ImageInputs(Path context, Dockerfile dockerfile) throws IOException {
    this.context = context;
    this.dockerfile = dockerfile;
    this.ignoreRules = ignoreRules(context, dockerfile.path());
  }

  /** What would break `docker build` or the container's start; empty when nothing would. */
  List<String> problems() throws IOException {
    List<String> problems = new ArrayList<>();
    Map<String, Path> image = new TreeMap<>(); // path in the image -> file in the context
    for (Dockerfile.Copy copy : dockerfile.copies()) {
      for (String source : copy.sources()) {
        Path file = context.resolve(source).normalize();
        String where = dockerfile.path().getFileName() + ":" + copy.line() + ": ";
        if (!file.startsWith(context)) {
          problems.add(where + source + " is outside the build context");
        } else if (!Files.exists(file)) {
          problems.add(where + source + " does not exist (is the module packaged?)");
        } else if (Files.isDirectory(file)) {
          List<Path> files = filesUnder(file);
          if (files.isEmpty()) {
            problems.add(where + source + " is an empty directory");
          }
          for (Path f : files) {
            String rel = context.relativize(f).toString();
            if (ignored(rel)) {
              problems.add(where + rel + " is excluded by the .dockerignore");
            }
            image.put(join(copy.destination(), file.relativize(f).toString()), f);
          }
        } else {
          if (ignored(context.relativize(file).toString())) {
            problems.add(where + source + " is excluded by the .dockerignore");
          }
          String dest =
              copy.destination().endsWith("/")
                  ? join(copy.destination(), file.getFileName().toString())
                  : copy.destination();
          image.put(dest, file);
        }
      }
    }
    problems.addAll(entrypointProblems(image));
    return problems;
  }

  private List<String> entrypointProblems(Map<String, Path> image) throws IOException {
    List<String> entrypoint = dockerfile.entrypoint();
    int jarFlag = entrypoint.indexOf("-jar");
    if (jarFlag < 0 || jarFlag + 1 >= entrypoint.size()) {
      return List.of(dockerfile.path().getFileName() + ": ENTRYPOINT runs no -jar: " + entrypoint);
    }
    String jarInImage = entrypoint.get(jarFlag + 1);
    Path jar = image.get(jarInImage);
    if (jar == null) {
      return List.of("ENTRYPOINT's " + jarInImage + " is not copied into the image");
    }
    List<String> problems = new ArrayList<>();
    try (JarFile jf = new JarFile(jar.toFile())) {
      Attributes main = jf.getManifest() == null ? null : jf.getManifest().getMainAttributes();
      if (main == null || main.getValue(Attributes.Name.MAIN_CLASS) == null) {
        return List.of(jar + " has no Main-Class, so java -jar cannot run it");
      }
      String classPath = main.getValue(Attributes.Name.CLASS_PATH);
      String dir = jarInImage.substring(0, jarInImage.lastIndexOf('/') + 1);
      for (String entry : classPath == null ? new String[0] : classPath.trim().split("\\s+")) {
        if (!entry.isEmpty() && !image.containsKey(join(dir, entry))) {
          problems.add(
              jarInImage + "'s Class-Path names " + entry + ", which is not copied beside it");
        }
      }
    }
    return problems;
  }

  /**
   * Whether the .dockerignore leaves a context-relative path out. As Docker does: the last rule
   * that matches the path or one of its parent directories decides, and "!" includes again.
   */
  boolean ignored(String relative) {
    boolean ignored = false;
    for (Rule rule : ignoreRules) {
      for (Path p = Path.of(relative); p != null; p = p.getParent()) {
        if (rule.matcher().matches(p)) {
          ignored = !rule.include();
          break;
        }
      }
    }
    return ignored;
  }

  /** BuildKit reads "<Dockerfile>.dockerignore" beside the Dockerfile first, else the context's. */
  private static List<Rule> ignoreRules(Path context, Path dockerfile) throws IOException {
    Path beside = dockerfile.resolveSibling(dockerfile.getFileName() + ".dockerignore");
    Path file = Files.exists(beside) ? beside : context.resolve(".dockerignore");
    if (!Files.exists(file)) {
      return List.of();
    }
    List<Rule> rules = new ArrayList<>();
    for (String line : Files.readAllLines(file)) {
      String l = line.strip();
      if (l.isEmpty() || l.startsWith("#")) {
        continue;
      }
      boolean include = l.startsWith("!");
      String pattern = Path.of(include ? l.substring(1) : l).normalize().toString();
      rules.add(new Rule(FileSystems.getDefault().getPathMatcher("glob:" + pattern), include));
    }
    return rules;
  }

  private static String join(String dir, String name) {
    return dir.endsWith("/") ? dir + name : dir + "/" + name;
  }

  private static List<Path> filesUnder(Path dir) {
    try (Stream<Path> walk = Files.walk(dir)) {
      return walk.filter(Files::isRegularFile).sorted().toList();
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }
}
