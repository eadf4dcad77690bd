package dev.hearth.vmm.vm;

import static org.assertj.core.api.Assertions.assertThat;

import dev.hearth.vmm.config.SeccompMode;
import java.time.Duration;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;

class VcpuThreadPoolTest {
  private final VcpuThreadPool pool = VcpuThreadPool.forMode(SeccompMode.OFF);

  @Test
  void aFinishedVcpuLeavesItsThreadIdleForTheNextUnderItsOwnName() throws Exception {
    CompletableFuture<Thread> first = new CompletableFuture<>();
    CompletableFuture<String> firstName = new CompletableFuture<>();
    VcpuThreadPool.Task a =
        pool.start(
            "vcpu-a-0",
            () -> {
              first.complete(Thread.currentThread());
              firstName.complete(Thread.currentThread().getName());
              Thread.currentThread().interrupt(); // as a stopped vCPU may leave it
            });
    a.join();
    assertThat(a.isAlive()).isFalse();
    assertThat(firstName.get()).isEqualTo("vcpu-a-0");
    // Back in the pool before join returned, under the idle name: no thread is named after the VM.
    assertThat(first.get().getName()).isEqualTo(VcpuThreadPool.IDLE_NAME);
    assertThat(pool.idleCount()).isPositive();

    CompletableFuture<Thread> second = new CompletableFuture<>();
    CompletableFuture<String> secondState = new CompletableFuture<>();
    VcpuThreadPool.Task b =
        pool.start(
            "vcpu-b-0",
            () -> {
              second.complete(Thread.currentThread());
              secondState.complete(
                  Thread.currentThread().getName() + " " + Thread.currentThread().isInterrupted());
            });
    assertThat(b.join(Duration.ofSeconds(30))).isTrue();
    assertThat(second.get()).isSameAs(first.get());
    assertThat(secondState.get()).isEqualTo("vcpu-b-0 false");
  }

  @Test
  void vcpusRunningTogetherGetThreadsOfTheirOwnAndAtMostMaxIdleAreKept() throws Exception {
    int n = VcpuThreadPool.MAX_IDLE + 3;
    CountDownLatch allIn = new CountDownLatch(n);
    CountDownLatch release = new CountDownLatch(1);
    VcpuThreadPool.Task[] tasks = new VcpuThreadPool.Task[n];
    for (int i = 0; i < n; i++) {
      tasks[i] =
          pool.start(
              "vcpu-many-" + i,
              () -> {
                allIn.countDown();
                try {
                  release.await();
                } catch (InterruptedException e) {
                  Thread.currentThread().interrupt();
                }
              });
    }
    // Each blocks until all have started: they cannot share a thread.
    assertThat(allIn.await(30, TimeUnit.SECONDS)).isTrue();
    assertThat(tasks[0].isAlive()).isTrue();
    release.countDown();
    for (VcpuThreadPool.Task t : tasks) {
      t.join();
    }
    assertThat(pool.idleCount()).isEqualTo(VcpuThreadPool.MAX_IDLE);
  }
}
