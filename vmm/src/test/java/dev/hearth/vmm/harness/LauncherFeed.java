package dev.hearth.vmm.harness;

import java.util.ArrayList;
import java.util.List;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * The per-test results in the JUnit console launcher's {@code --details=testfeed} output, which
 * streams one line per test event as it happens: tests run inside L1 are reported one by one on the
 * host, and a hang shows which test it is in.
 */
final class LauncherFeed {
  /** One test's outcome, with the launcher's detail lines (exception and trace) for failures. */
  record TestResult(String container, String name, Status status, String detail) {
    String displayName() {
      return container + "." + name;
    }
  }

  enum Status {
    SUCCESSFUL,
    FAILED,
    ABORTED,
    SKIPPED
  }

  // "JUnit Jupiter > SomeKvmIT > someTest() :: SUCCESSFUL"; containers have no "()" in the name.
  // A parameterized test's invocation follows its method: "... > boots(Example) > linux.yaml".
  private static final Pattern EVENT =
      Pattern.compile("^(.+) > ([^>]+) > ([^>]+\\(.*\\)(?: > [^>]+)?) :: ([A-Z]+)\\s*$");

  private LauncherFeed() {}

  /** Every test that finished in {@code lines}, in output order. */
  static List<TestResult> parse(List<String> lines) {
    List<TestResult> results = new ArrayList<>();
    for (int i = 0; i < lines.size(); i++) {
      Matcher m = EVENT.matcher(lines.get(i));
      if (!m.matches() || m.group(4).equals("STARTED")) {
        continue;
      }
      Status status;
      try {
        status = Status.valueOf(m.group(4));
      } catch (IllegalArgumentException e) {
        continue;
      }
      results.add(new TestResult(m.group(2), m.group(3), status, detailAfter(lines, i)));
    }
    return results;
  }

  /** The classes (simple names, sorted, each once) with a failed test among {@code results}. */
  static List<String> failedContainers(List<TestResult> results) {
    return results.stream()
        .filter(r -> r.status() == Status.FAILED)
        .map(TestResult::container)
        .distinct()
        .sorted()
        .toList();
  }

  /**
   * A console-launcher class-name pattern (matched against fully qualified names) for exactly the
   * classes with these simple names.
   */
  static String classNamePattern(List<String> simpleNames) {
    StringBuilder sb = new StringBuilder(".*\\.(");
    for (int i = 0; i < simpleNames.size(); i++) {
      sb.append(i == 0 ? "" : "|").append(Pattern.quote(simpleNames.get(i)));
    }
    return sb.append(')').toString();
  }

  /** Tests that started but never finished: where a run that timed out was stuck. */
  static List<String> unfinished(List<String> lines) {
    List<String> open = new ArrayList<>();
    for (String line : lines) {
      Matcher m = EVENT.matcher(line);
      if (m.matches()) {
        String test = m.group(2) + "." + m.group(3);
        if (m.group(4).equals("STARTED")) {
          open.add(test);
        } else {
          open.remove(test);
        }
      }
    }
    return open;
  }

  /** The tab-indented lines under an event (exception and trace), at most a dozen. */
  private static String detailAfter(List<String> lines, int event) {
    StringBuilder sb = new StringBuilder();
    for (int j = event + 1; j < lines.size() && j <= event + 12; j++) {
      String line = lines.get(j);
      if (!line.startsWith("\t")) {
        break;
      }
      if (!sb.isEmpty()) {
        sb.append('\n');
      }
      sb.append(line.strip());
    }
    return sb.toString();
  }
}
