package dev.hearth.vmm.harness;

import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * The per-test results in the JUnit console launcher's {@code --details=tree} output (without ANSI
 * colours), so that tests run inside L1 are reported one by one on the host.
 */
final class LauncherTree {
  /** One test's outcome: passed, failed (with the launcher's message) or skipped. */
  record TestResult(String container, String name, Status status, String detail) {
    String displayName() {
      return container.isEmpty() ? name : container + "." + name;
    }
  }

  enum Status {
    PASSED,
    FAILED,
    SKIPPED
  }

  // A node line: tree drawing, a name, an optional duration, then a mark and maybe a message.
  private static final Pattern NODE =
      Pattern.compile("^[│├└─\\s]*([^│├└─\\s].*?)(?: \\d+ ms)? ([✔✘↷■])(?: (.*))?$");
  private static final Pattern SUMMARY = Pattern.compile("\\[\\s*(\\d+) tests (\\w+)\\s*]");

  private LauncherTree() {}

  /** Every test in {@code lines}, in output order. Engines and classes are containers. */
  static List<TestResult> parse(List<String> lines) {
    List<TestResult> results = new ArrayList<>();
    String container = "";
    for (int i = 0; i < lines.size(); i++) {
      Matcher m = NODE.matcher(lines.get(i));
      if (!m.matches()) {
        continue;
      }
      String name = m.group(1);
      String mark = m.group(2);
      String message = m.group(3) == null ? "" : m.group(3);
      if (!name.contains("(")) {
        if (!name.startsWith("JUnit ")) {
          container = name;
        }
        continue;
      }
      Status status =
          switch (mark) {
            case "✔" -> Status.PASSED;
            case "↷" -> Status.SKIPPED;
            default -> Status.FAILED;
          };
      results.add(new TestResult(container, name, status, message + detailAfter(lines, i)));
    }
    return results;
  }

  /** The launcher's count for {@code what} ("found", "successful", "failed"), if printed. */
  static Optional<Integer> count(List<String> lines, String what) {
    for (String line : lines) {
      Matcher m = SUMMARY.matcher(line);
      if (m.find() && m.group(2).equals(what)) {
        return Optional.of(Integer.parseInt(m.group(1)));
      }
    }
    return Optional.empty();
  }

  /** The indented lines under a failed node (exception and message), up to the next node. */
  private static String detailAfter(List<String> lines, int node) {
    StringBuilder sb = new StringBuilder();
    for (int j = node + 1; j < lines.size() && j <= node + 12; j++) {
      if (NODE.matcher(lines.get(j)).matches() || SUMMARY.matcher(lines.get(j)).find()) {
        break;
      }
      String text = lines.get(j).replaceFirst("^[│├└─\\s]*", "");
      if (!text.isEmpty()) {
        sb.append('\n').append(text);
      }
    }
    return sb.toString();
  }
}
