package dev.hearth.e2e.docker;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Locale;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * The parts of a Dockerfile that name build outputs: the COPY and ADD instructions that read the
 * build context (not another stage), and the ENTRYPOINT. Enough of the syntax for our own
 * Dockerfiles, strictly: anything it does not understand in those instructions is an error.
 */
record Dockerfile(Path path, List<Copy> copies, List<String> entrypoint) {

  /** One COPY or ADD from the build context: its sources and its destination in the image. */
  record Copy(int line, List<String> sources, String destination) {}

  private static final Pattern STRING = Pattern.compile("\"((?:[^\"\\\\]|\\\\.)*)\"");

  static Dockerfile parse(Path path) throws IOException {
    List<Copy> copies = new ArrayList<>();
    List<String> entrypoint = List.of();
    List<String> lines = Files.readAllLines(path);
    for (int i = 0; i < lines.size(); i++) {
      int first = i + 1;
      StringBuilder instruction = new StringBuilder();
      String line = lines.get(i);
      if (line.isBlank() || line.strip().startsWith("#")) {
        continue;
      }
      // A trailing backslash continues the instruction; comment lines inside it are dropped.
      while (line.stripTrailing().endsWith("\\") && i + 1 < lines.size()) {
        String stripped = line.stripTrailing();
        instruction.append(stripped, 0, stripped.length() - 1).append(' ');
        do {
          line = lines.get(++i);
        } while (line.strip().startsWith("#") && i + 1 < lines.size());
      }
      instruction.append(line);
      String text = instruction.toString().strip();
      String keyword = text.split("\\s+", 2)[0].toUpperCase(Locale.ROOT);
      String args = text.substring(keyword.length()).strip();
      switch (keyword) {
        case "COPY", "ADD" -> {
          List<String> words = words(path, first, args);
          if (words.stream().anyMatch(w -> w.startsWith("--from"))) {
            continue; // from another stage or image, not from the build context
          }
          List<String> operands = words.stream().filter(w -> !w.startsWith("--")).toList();
          if (operands.size() < 2) {
            throw new IllegalArgumentException(
                path + ":" + first + ": " + keyword + " needs a source and a destination");
          }
          copies.add(new Copy(first, operands.subList(0, operands.size() - 1), operands.getLast()));
        }
        case "ENTRYPOINT" -> entrypoint = words(path, first, args);
        default -> {}
      }
    }
    return new Dockerfile(path, List.copyOf(copies), entrypoint);
  }

  /** The words of an instruction in exec (JSON array) or shell form. */
  private static List<String> words(Path path, int line, String args) {
    if (!args.startsWith("[")) {
      if (args.contains("$") || args.contains("*") || args.contains("?")) {
        throw new IllegalArgumentException(
            path + ":" + line + ": variables and wildcards are not checked: " + args);
      }
      return Arrays.asList(args.split("\\s+"));
    }
    if (!args.endsWith("]")) {
      throw new IllegalArgumentException(path + ":" + line + ": unterminated JSON array: " + args);
    }
    List<String> words = new ArrayList<>();
    Matcher m = STRING.matcher(args);
    while (m.find()) {
      words.add(m.group(1).replace("\\\"", "\"").replace("\\\\", "\\"));
    }
    return words;
  }
}
