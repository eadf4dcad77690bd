package dev.hearth.common;

import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.util.Properties;

/**
 * The build this code came from. The version is the Maven project version, written into {@code
 * build.properties} by resource filtering, so it is the same whether the code runs from a jar, an
 * image or the classes directory of a test.
 */
public final class HearthBuild {
  private static final String RESOURCE = "build.properties";
  private static final String VERSION = load();

  private HearthBuild() {}

  /** The project version, for example {@code 0.1.0} or {@code 0.2.0-SNAPSHOT}. */
  public static String version() {
    return VERSION;
  }

  private static String load() {
    try (InputStream in = HearthBuild.class.getResourceAsStream(RESOURCE)) {
      if (in == null) {
        throw new IllegalStateException(
            "dev/hearth/common/" + RESOURCE + " is missing from the classpath: a broken build");
      }
      Properties p = new Properties();
      p.load(in);
      String v = p.getProperty("version", "");
      if (v.isBlank() || v.contains("${")) {
        throw new IllegalStateException(
            "dev/hearth/common/" + RESOURCE + " holds no filtered version ('" + v + "')");
      }
      return v.strip();
    } catch (IOException e) {
      throw new UncheckedIOException("cannot read dev/hearth/common/" + RESOURCE, e);
    }
  }
}
