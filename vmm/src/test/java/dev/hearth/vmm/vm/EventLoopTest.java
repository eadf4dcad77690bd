package dev.hearth.vmm.vm;

import static org.assertj.core.api.Assertions.assertThat;

import dev.hearth.vmm.sys.EventFd;
import dev.hearth.vmm.sys.LibC;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.Test;

class EventLoopTest {

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
}
