package dev.hearth.vmm.devices.virtio.vsock;

import static org.assertj.core.api.Assertions.assertThat;

import dev.hearth.vmm.devices.virtio.DeviceContext;
import dev.hearth.vmm.devices.virtio.queue.Virtqueue;
import dev.hearth.vmm.memory.GuestMemory;
import java.net.UnixDomainSocketAddress;
import java.nio.channels.SocketChannel;
import java.nio.file.Path;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The vsock host loop never dies unnoticed (issue 14, finding 17). */
class VsockHostLoopTest {
  @TempDir Path dir;

  @Test
  void anErrorThatEndsTheHostLoopIsReported() throws Exception {
    Path uds = dir.resolve("v.sock");
    CompletableFuture<String> died = new CompletableFuture<>();
    try (VirtioVsock vsock = new VirtioVsock(new VsockConfig(3, uds))) {
      vsock.activate(new ExhaustedContext());
      Thread loop = Thread.ofPlatform().start(() -> vsock.runHostLoop(died::complete));
      try (SocketChannel _ = SocketChannel.open(UnixDomainSocketAddress.of(uds))) {
        assertThat(died.get(5, TimeUnit.SECONDS))
            .contains(uds.toString())
            .contains("OutOfMemoryError");
      }
      loop.join(5000);
      assertThat(loop.isAlive()).isFalse();
    }
  }

  /** A context whose every use runs out of memory, as an exhausted JVM would. */
  private static final class ExhaustedContext implements DeviceContext {
    @Override
    public GuestMemory memory() {
      throw new OutOfMemoryError("Java heap space");
    }

    @Override
    public Virtqueue queue(int index) {
      throw new OutOfMemoryError("Java heap space");
    }

    @Override
    public long features() {
      return 0;
    }

    @Override
    public void signalUsed(int queue) {}

    @Override
    public void signalConfigChange() {}

    @Override
    public void markBroken(String reason) {}

    @Override
    public boolean broken() {
      return false;
    }

    @Override
    public dev.hearth.vmm.devices.DeviceLog log() {
      return new dev.hearth.vmm.devices.DeviceLog("test");
    }
  }
}
