package dev.hearth.vmm.sys;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.time.Duration;
import java.util.concurrent.CompletableFuture;
import org.junit.jupiter.api.Test;

class LibCTest {

  @Test
  void aFailedCallCarriesTheCallTheErrnoAndItsText() {
    assertThatThrownBy(() -> LibC.open("/nonexistent/hearth", LibC.O_RDWR))
        .isInstanceOfSatisfying(
            SysException.class,
            e -> {
              assertThat(e.errno()).isEqualTo(Errno.ENOENT);
              assertThat(e.call()).isEqualTo("open(/nonexistent/hearth)");
              assertThat(e.getMessage()).contains("No such file or directory");
            });
  }

  @Test
  void anIoctlOnTheWrongKindOfFdFailsWithItsNameAndFd() {
    try (EventFd fd = new EventFd()) {
      assertThatThrownBy(() -> LibC.ioctl(fd.fd(), 0xAE00L, 0L, "KVM_GET_API_VERSION"))
          .isInstanceOfSatisfying(
              SysException.class,
              e -> {
                assertThat(e.errno()).isEqualTo(Errno.ENOTTY);
                assertThat(e.fd()).isEqualTo(fd.fd());
                assertThat(e.getMessage()).contains("ioctl(KVM_GET_API_VERSION) on fd " + fd.fd());
              });
    }
  }

  @Test
  void errnoIsCapturedPerThread() throws Exception {
    // Two threads fail differently at the same time; each sees its own errno.
    for (int i = 0; i < 200; i++) {
      CompletableFuture<Integer> a =
          CompletableFuture.supplyAsync(() -> errnoOf(() -> LibC.open("/nonexistent", 0)));
      CompletableFuture<Integer> b =
          CompletableFuture.supplyAsync(() -> errnoOf(() -> LibC.close(-1)));
      assertThat(a.get()).isEqualTo(Errno.ENOENT);
      assertThat(b.get()).isEqualTo(Errno.EBADF);
    }
  }

  private static int errnoOf(Runnable r) {
    try {
      r.run();
      return 0;
    } catch (SysException e) {
      return e.errno();
    }
  }

  @Test
  void mmapGivesWritableMemoryThatMunmapReleases() {
    MemorySegment m =
        LibC.mmap(
            1 << 20,
            LibC.PROT_READ | LibC.PROT_WRITE,
            LibC.MAP_PRIVATE | LibC.MAP_ANONYMOUS | LibC.MAP_NORESERVE,
            -1,
            0);
    assertThat(m.byteSize()).isEqualTo(1 << 20);
    m.set(ValueLayout.JAVA_LONG, 4096, 42L);
    assertThat(m.get(ValueLayout.JAVA_LONG, 4096)).isEqualTo(42L);
    LibC.munmap(m);
  }

  @Test
  void epollReportsAnEventFdThatWasSignalled() {
    try (Epoll epoll = new Epoll(4);
        EventFd a = new EventFd();
        EventFd b = new EventFd()) {
      epoll.add(a.fd(), LibC.EPOLLIN);
      epoll.add(b.fd(), LibC.EPOLLIN);
      assertThat(epoll.await(0)).isZero();
      b.signal();
      b.signal();
      assertThat(epoll.await(1000)).isEqualTo(1);
      assertThat(epoll.readyFd(0)).isEqualTo(b.fd());
      assertThat(epoll.readyEvents(0) & LibC.EPOLLIN).isNotZero();
      assertThat(b.drain()).isEqualTo(2);
      assertThat(b.drain()).isZero();
    }
  }

  @Test
  void aTimerFdFiresAfterItsDelay() {
    try (Epoll epoll = new Epoll(1);
        TimerFd timer = new TimerFd()) {
      epoll.add(timer.fd(), LibC.EPOLLIN);
      timer.arm(Duration.ofMillis(5), Duration.ZERO);
      assertThat(epoll.await(2000)).isEqualTo(1);
      assertThat(timer.drain()).isEqualTo(1);
      timer.disarm();
    }
  }
}
