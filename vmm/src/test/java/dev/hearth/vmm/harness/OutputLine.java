package dev.hearth.vmm.harness;

import java.time.Duration;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * One line a harness run printed.
 *
 * @param at time since L1's QEMU started, as stamped by {@code run-in-l1.sh}; for lines the script
 *     printed before QEMU started (builds), the time since the run began
 * @param stream where the line went
 * @param text the line, without its timestamp
 */
public record OutputLine(Duration at, Stream stream, String text) {

  /** The stream a line came from. */
  public enum Stream {
    STDOUT,
    STDERR
  }

  private static final Pattern STAMPED = Pattern.compile("^\\[\\+\\s*(\\d+)\\.(\\d{3})s] (.*)$");

  /** Whether {@code raw} is a line of the job inside L1 (stamped), not of the script's builds. */
  static boolean isFromJob(String raw) {
    return STAMPED.matcher(raw).matches();
  }

  /** Parses a line of {@code run-in-l1.sh}, which stamps the job's lines as {@code [+ 12.345s]}. */
  static OutputLine parse(String raw, Stream stream, Duration receivedAt) {
    Matcher m = STAMPED.matcher(raw);
    if (m.matches()) {
      Duration at =
          Duration.ofSeconds(Long.parseLong(m.group(1))).plusMillis(Long.parseLong(m.group(2)));
      return new OutputLine(at, stream, m.group(3));
    }
    return new OutputLine(receivedAt, stream, raw);
  }

  @Override
  public String toString() {
    long ms = at.toMillis();
    return String.format(
        "[L1 +%d.%03ds%s] %s", ms / 1000, ms % 1000, stream == Stream.STDERR ? " err" : "", text);
  }
}
