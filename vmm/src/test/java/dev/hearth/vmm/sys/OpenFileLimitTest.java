package dev.hearth.vmm.sys;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;

class OpenFileLimitTest {

  @Test
  void aLoweredSoftLimitStopsNewFdsWithEmfileAndRaisingRestoresIt() throws IOException {
    OpenFileLimit.Limit before = OpenFileLimit.current();
    assertThat(before.soft()).isPositive().isLessThanOrEqualTo(before.hard());
    long open = openFds();
    List<EventFd> fds = new ArrayList<>();
    try {
      assertThat(OpenFileLimit.setSoft(open + 20).soft()).isEqualTo(open + 20);
      assertThatThrownBy(
              () -> {
                for (int i = 0; i < 100; i++) {
                  fds.add(new EventFd());
                }
              })
          .isInstanceOfSatisfying(
              SysException.class, e -> assertThat(e.errno()).isEqualTo(Errno.EMFILE));
      // The limit bounds fd numbers, not the count: holes below it are filled first.
      assertThat(fds.size()).isBetween(1, 99);
    } finally {
      fds.forEach(EventFd::close);
      assertThat(OpenFileLimit.raiseToHard().soft()).isEqualTo(before.hard());
      OpenFileLimit.setSoft(before.soft());
    }
    assertThat(OpenFileLimit.current()).isEqualTo(before);
  }

  private static long openFds() throws IOException {
    try (Stream<Path> s = Files.list(Path.of("/proc/self/fd"))) {
      return s.count();
    }
  }
}
