package dev.hearth.common;

import java.util.logging.Handler;
import java.util.logging.Level;
import java.util.logging.Logger;

/**
 * The log level setting of both programs ({@code --log-level} or {@code HEARTH_LOG_LEVEL}). Both
 * log through SLF4J with the slf4j-simple binding, which reads its level once, when the first
 * logger is made; {@link #apply} must therefore run before anything logs. The JDK's own loggers
 * (the HTTP client's) go to java.util.logging: warn and error quieten them too, but they never go
 * below info, where they would print every certificate of the JDK's trust store.
 */
public enum LogLevel {
  TRACE(Level.INFO),
  DEBUG(Level.INFO),
  INFO(Level.INFO),
  WARN(Level.WARNING),
  ERROR(Level.SEVERE);

  /** The slf4j-simple property that sets the level of every logger not configured otherwise. */
  public static final String SLF4J_SIMPLE_DEFAULT_LEVEL = "org.slf4j.simpleLogger.defaultLogLevel";

  private final Level julLevel;

  LogLevel(Level julLevel) {
    this.julLevel = julLevel;
  }

  /** Sets this level for the process; call it before the first logger is made. */
  public void apply() {
    System.setProperty(SLF4J_SIMPLE_DEFAULT_LEVEL, name().toLowerCase(java.util.Locale.ROOT));
    Logger root = Logger.getLogger("");
    root.setLevel(julLevel);
    for (Handler h : root.getHandlers()) {
      h.setLevel(julLevel);
    }
  }
}
