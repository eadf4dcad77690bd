package dev.hearth.agent.cli;

import java.io.IOException;
import java.util.concurrent.TimeUnit;

/**
 * The controlling terminal in raw mode while attached to a console, so that keystrokes (Ctrl-C
 * included) go to the guest as typed, and the guest echoes them; restored on detach or exit.
 */
final class Terminal {
  private final String saved; // stty -g, or null when stdin is not a terminal

  private Terminal(String saved) {
    this.saved = saved;
  }

  /** Raw mode when {@code fromStdin} and stdin is a terminal; otherwise nothing changes. */
  static Terminal raw(boolean fromStdin) {
    if (!fromStdin || System.console() == null || !System.console().isTerminal()) {
      return new Terminal(null);
    }
    String saved = stty("-g");
    if (saved == null || stty("raw -echo") == null) {
      return new Terminal(null);
    }
    Terminal t = new Terminal(saved.strip());
    Runtime.getRuntime().addShutdownHook(new Thread(t::restore, "hearth-terminal-restore"));
    return t;
  }

  /** Puts the terminal back as it was. */
  void restore() {
    if (saved != null) {
      stty(saved);
    }
  }

  private static String stty(String args) {
    try {
      Process p =
          new ProcessBuilder("sh", "-c", "stty " + args + " < /dev/tty")
              .redirectErrorStream(true)
              .start();
      String out = new String(p.getInputStream().readAllBytes());
      return p.waitFor(5, TimeUnit.SECONDS) && p.exitValue() == 0 ? out : null;
    } catch (IOException e) {
      return null;
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      return null;
    }
  }
}
