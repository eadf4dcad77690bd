package dev.hearth.vmm.sys.seccomp;

import java.io.IOException;
import java.net.URISyntaxException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.CodeSource;
import java.time.ZoneId;
import java.util.ArrayList;
import java.util.List;
import java.util.jar.JarEntry;
import java.util.jar.JarFile;
import java.util.stream.Stream;

/**
 * Loads every class of the VMM (those under {@code dev/hearth/vmm/} where this class came from),
 * once, before the first filter is installed: a filtered thread can read a jar that is already
 * open, but cannot open a class file or a jar. Also does the JDK's lazy file reads that logging
 * triggers (the time-zone database).
 */
final class ClassPreload {
  private static final System.Logger LOG = System.getLogger(ClassPreload.class.getName());
  private static final String ROOT = "dev/hearth/vmm/";
  private static boolean done;

  private ClassPreload() {}

  static synchronized void ensureDone() {
    if (done) {
      return;
    }
    done = true;
    long started = System.nanoTime();
    ZoneId.systemDefault().getRules();
    ClassLoader loader = ClassPreload.class.getClassLoader();
    List<String> names = classNames();
    for (String name : names) {
      try {
        Class.forName(name, false, loader);
      } catch (ClassNotFoundException | LinkageError e) {
        LOG.log(System.Logger.Level.DEBUG, "not preloading {0}: {1}", name, e);
      }
    }
    LOG.log(
        System.Logger.Level.DEBUG,
        "loaded {0} VMM classes in {1} ms before the first seccomp filter",
        names.size(),
        (System.nanoTime() - started) / 1_000_000);
  }

  private static List<String> classNames() {
    List<String> names = new ArrayList<>();
    try {
      CodeSource source = ClassPreload.class.getProtectionDomain().getCodeSource();
      if (source == null) {
        return names;
      }
      Path where = Path.of(source.getLocation().toURI());
      if (Files.isDirectory(where)) {
        Path root = where.resolve(ROOT);
        try (Stream<Path> files = Files.walk(root)) {
          files
              .map(p -> where.relativize(p).toString().replace('\\', '/'))
              .filter(n -> n.endsWith(".class") && !n.endsWith("package-info.class"))
              .forEach(n -> names.add(binaryName(n)));
        }
      } else {
        try (JarFile jar = new JarFile(where.toFile())) {
          jar.stream()
              .map(JarEntry::getName)
              .filter(n -> n.startsWith(ROOT) && n.endsWith(".class"))
              .filter(n -> !n.endsWith("package-info.class"))
              .forEach(n -> names.add(binaryName(n)));
        }
      }
    } catch (IOException | URISyntaxException | RuntimeException e) {
      LOG.log(System.Logger.Level.WARNING, "cannot list the VMM classes to preload: {0}", e);
    }
    return names;
  }

  private static String binaryName(String path) {
    return path.substring(0, path.length() - ".class".length()).replace('/', '.');
  }
}
