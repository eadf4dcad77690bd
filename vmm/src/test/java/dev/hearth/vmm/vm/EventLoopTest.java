package dev.hearth.vmm.vm;

import static org.assertj.core.api.Assertions.assertThat;

import dev.hearth.vmm.sys.EventFd;
import dev.hearth.vmm.sys.LibC;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.Test;

class EventLoopTest {

  @Test
  void aLoopWithNothingToServeHoldsNoThreadAndNoFdsUntilItsFirstTask() throws Exception {
    long fdsBefore = openFds();
    int threadsBefore = Thread.activeCount();
    try (EventLoop loop = new EventLoop("events-lazy")) {
      loop.start();
      assertThat(openFds()).isEqualTo(fdsBefore);
      assertThat(Thread.getAllStackTraces().keySet())
          .noneMatch(t -> t.getName().equals("events-lazy"));
      // The first task makes the loop, and runs on its thread.
      CompletableFuture<Boolean> ranInLoop = new CompletableFuture<>();
      loop.execute(() -> ranInLoop.complete(loop.inLoop()));
      assertThat(ranInLoop.get(5, TimeUnit.SECONDS)).isTrue();
      assertThat(openFds()).isEqualTo(fdsBefore + 2); // epoll and the wake eventfd
    }
    assertThat(openFds()).isEqualTo(fdsBefore);
    assertThat(Thread.activeCount()).isLessThanOrEqualTo(threadsBefore + 1);
  }

  private static long openFds() throws java.io.IOException {
    try (var s = java.nio.file.Files.list(java.nio.file.Path.of("/proc/self/fd"))) {
      return s.count();
    }
  }

  @Test
  void callsTheHandlerOfAReadyFdOnItsThreadAndSurvivesAFailingHandler() throws Exception {
    try (EventLoop loop = new EventLoop("events-test");
        EventFd good = new EventFd();
        EventFd bad = new EventFd()) {
      CountDownLatch fired = new CountDownLatch(2);
      AtomicInteger badCalls = new AtomicInteger();
      loop.register(
          good.fd(),
          LibC.EPOLLIN,
          ev -> {
            assertThat(loop.inLoop()).isTrue();
            for (long n = good.drain(); n > 0; n--) {
              fired.countDown();
            }
          });
      loop.register(
          bad.fd(),
          LibC.EPOLLIN,
          ev -> {
            badCalls.incrementAndGet();
            throw new IllegalStateException("device broke");
          });
      loop.start();
      bad.signal();
      good.signal();
      Thread.sleep(50);
      bad.signal();
      good.signal();
      assertThat(fired.await(5, TimeUnit.SECONDS)).isTrue();
      assertThat(badCalls.get()).isEqualTo(1);
    }
  }

  @Test
  void closeStopsTheThread() {
    EventLoop loop = new EventLoop("events-close");
    loop.start();
    loop.close();
    assertThat(Thread.getAllStackTraces().keySet())
        .noneMatch(t -> t.getName().equals("events-close"));
  }

  @Test
  void executeRunsTasksOnTheLoopThreadInOrder() throws Exception {
    try (EventLoop loop = new EventLoop("events-exec")) {
      loop.start();
      java.util.List<Integer> seen =
          java.util.Collections.synchronizedList(new java.util.ArrayList<>());
      CountDownLatch done = new CountDownLatch(1);
      for (int i = 0; i < 100; i++) {
        int n = i;
        loop.execute(
            () -> {
              assertThat(loop.inLoop()).isTrue();
              seen.add(n);
            });
      }
      loop.execute(done::countDown);
      assertThat(done.await(5, TimeUnit.SECONDS)).isTrue();
      assertThat(seen).hasSize(100).isSorted();
    }
  }

  @Test
  void loopTimersFireOncePerArmingAndNotAfterDisarmOrClose() throws Exception {
    try (EventLoop loop = new EventLoop("events-timers")) {
      AtomicInteger fired = new AtomicInteger();
      LoopTimers timers = new LoopTimers(loop);
      dev.hearth.vmm.ratelimit.RefillTimer t = timers.create(fired::incrementAndGet);
      dev.hearth.vmm.ratelimit.RefillTimer never = timers.create(fired::incrementAndGet);
      loop.start();
      never.arm(50_000_000);
      never.disarm();
      t.arm(1_000_000);
      long deadline = System.nanoTime() + 5_000_000_000L;
      while (fired.get() == 0 && System.nanoTime() < deadline) {
        Thread.sleep(5);
      }
      Thread.sleep(100);
      assertThat(fired.get()).isEqualTo(1);
      timers.close();
      assertThat(timers.size()).isZero();
      t.arm(1); // after close: ignored, no fd touched
      Thread.sleep(20);
      assertThat(fired.get()).isEqualTo(1);
    }
  }

  @Test
  void anErrorThatEndsTheLoopIsReportedWithTheLoopsName() throws Exception {
    CompletableFuture<String> died = new CompletableFuture<>();
    try (EventLoop loop = new EventLoop("events-dying", died::complete);
        EventFd fd = new EventFd()) {
      loop.register(
          fd.fd(),
          LibC.EPOLLIN,
          ev -> {
            throw new StackOverflowError("a device recursed");
          });
      loop.start();
      fd.signal();
      assertThat(died.get(5, TimeUnit.SECONDS))
          .contains("events-dying")
          .contains("StackOverflowError: a device recursed");
    }
  }

  @Test
  void anErrorInATaskIsReportedToo() throws Exception {
    CompletableFuture<String> died = new CompletableFuture<>();
    try (EventLoop loop = new EventLoop("events-task", died::complete)) {
      loop.start();
      loop.execute(
          () -> {
            throw new OutOfMemoryError("no room");
          });
      assertThat(died.get(5, TimeUnit.SECONDS)).contains("events-task").contains("no room");
    }
  }
}
