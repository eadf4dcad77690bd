package dev.hearth.vmm.testing;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.ArrayList;
import java.util.List;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * The numbered lines a test guest prints on its console ("tick 7" from the ticker, "round 3 ..."
 * from the device exerciser), read back by tests that pause, snapshot, restore or hand a guest to
 * another process and check that it counts on where it left off. Only whole lines count: the guest
 * writes a character per exit, so a console cut by a suspend can end mid-line, and the restored
 * guest's console then opens with the rest of that line.
 */
public final class ConsoleCounts {
  /** The ticker guest's lines, its count in group 1. */
  public static final Pattern TICK = Pattern.compile("(?m)^tick (\\d+)\n");

  /** The device exerciser's rounds, each with its disk and entropy checks passed. */
  public static final Pattern ROUND = Pattern.compile("round (\\d+) blk ok rng ok\n");

  private ConsoleCounts() {}

  /** Every count {@code line} matches in {@code text}, in order. */
  public static List<Long> all(Pattern line, String text) {
    List<Long> counts = new ArrayList<>();
    Matcher m = line.matcher(text);
    while (m.find()) {
      counts.add(Long.parseLong(m.group(1)));
    }
    return counts;
  }

  /** The last count in {@code text}, or -1 when there is none yet. */
  public static long last(Pattern line, String text) {
    Matcher m = line.matcher(text);
    long count = -1;
    while (m.find()) {
      count = Long.parseLong(m.group(1));
    }
    return count;
  }

  /** The first count in {@code text}; fails the test when there is none. */
  public static long first(Pattern line, String text) {
    Matcher m = line.matcher(text);
    assertThat(m.find()).as("%s on the console:%n%s", line, head(text)).isTrue();
    return Long.parseLong(m.group(1));
  }

  /** The start of {@code text}, short enough for a failure message. */
  public static String head(String text) {
    return text.length() <= 400 ? text : text.substring(0, 400) + "...";
  }
}
