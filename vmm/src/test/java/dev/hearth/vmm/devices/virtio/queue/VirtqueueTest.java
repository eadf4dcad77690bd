package dev.hearth.vmm.devices.virtio.queue;

import static dev.hearth.vmm.devices.virtio.queue.MockDriver.Buf.in;
import static dev.hearth.vmm.devices.virtio.queue.MockDriver.Buf.out;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.hearth.vmm.devices.virtio.queue.MockDriver.Used;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

class VirtqueueTest {
  private final FakeGuestMemory fake = new FakeGuestMemory(1 << 20);
  private final MockDriver driver = new MockDriver(fake.memory(), 16, 0x1000, 0x40000);
  private final Virtqueue q = new Virtqueue(256);

  @AfterEach
  void close() {
    assertThat(fake.canariesIntact()).isTrue();
    fake.close();
  }

  private void activate(boolean eventIdx, boolean indirect) throws Exception {
    driver.configure(q);
    q.activate(fake.memory(), eventIdx, indirect);
  }

  @Test
  void popsChainsInOrderAndSplitsReadableFromWritable() throws Exception {
    activate(false, false);
    long a = driver.alloc(10);
    long b = driver.alloc(6);
    long c = driver.alloc(8);
    driver.write(a, "0123456789".getBytes());
    driver.write(b, "abcdef".getBytes());
    int head = driver.addChain(in(a, 10), in(b, 6), out(c, 8));
    assertThat(q.hasAvailable()).isTrue();
    DescriptorChain chain = q.pop();
    assertThat(chain.head()).isEqualTo(head);
    assertThat(chain.readableBytes()).isEqualTo(16);
    assertThat(chain.writableBytes()).isEqualTo(8);
    byte[] got = new byte[8];
    chain.read(fake.memory(), 6, got, 0, 8);
    assertThat(new String(got)).isEqualTo("6789abcd");
    chain.write(fake.memory(), 2, "xyz".getBytes(), 0, 3);
    assertThat(driver.read(c, 8)).containsExactly(0, 0, 'x', 'y', 'z', 0, 0, 0);
    assertThatThrownBy(() -> chain.write(fake.memory(), 6, new byte[3], 0, 3))
        .isInstanceOf(IndexOutOfBoundsException.class);
    assertThat(q.pop()).isNull();
    q.addUsed(chain.head(), 3);
    assertThat(driver.takeUsed()).containsExactly(new Used(head, 3));
  }

  @Test
  void followsIndirectTablesWhenNegotiated() throws Exception {
    activate(false, true);
    long a = driver.alloc(4);
    long b = driver.alloc(4);
    driver.addIndirectChain(in(a, 4), out(b, 4));
    DescriptorChain chain = q.pop();
    assertThat(chain.readableBytes()).isEqualTo(4);
    assertThat(chain.writableBytes()).isEqualTo(4);
  }

  @Test
  void rejectsIndirectWithoutTheFeatureAndNestedIndirect() throws Exception {
    activate(false, false);
    driver.addIndirectChain(in(driver.alloc(4), 4));
    assertThatThrownBy(q::pop)
        .isInstanceOf(InvalidChainException.class)
        .hasMessageContaining("VIRTIO_F_INDIRECT_DESC");
    q.reset();
    activate(false, true);
    long table = driver.alloc(32);
    driver.writeRaw(table, table, 32, Virtqueue.F_INDIRECT, 0);
    driver.writeDescriptor(5, table, 32, Virtqueue.F_INDIRECT, 0);
    driver.setAvailIdx(0);
    driver.publish(5);
    assertThatThrownBy(q::pop)
        .isInstanceOf(InvalidChainException.class)
        .hasMessageContaining("inside an indirect");
  }

  @Test
  void loopsAndOverlongChainsFailTheChainOnly() throws Exception {
    activate(false, true);
    long a = driver.alloc(4);
    driver.writeDescriptor(0, a, 4, Virtqueue.F_NEXT, 1);
    driver.writeDescriptor(1, a, 4, Virtqueue.F_NEXT, 0);
    driver.publish(0);
    InvalidChainException e =
        org.junit.jupiter.api.Assertions.assertThrows(InvalidChainException.class, q::pop);
    assertThat(e.head()).isZero();
    assertThat(e).hasMessageContaining("longer than");
    q.addUsed(e.head(), 0);
    // An indirect table that loops on itself.
    long table = driver.alloc(32);
    driver.writeRaw(table, a, 4, Virtqueue.F_NEXT, 1);
    driver.writeRaw(table + 16, a, 4, Virtqueue.F_NEXT, 0);
    driver.writeDescriptor(2, table, 32, Virtqueue.F_INDIRECT, 0);
    driver.publish(2);
    assertThatThrownBy(q::pop).isInstanceOf(InvalidChainException.class);
    // The queue still works afterwards.
    driver.writeDescriptor(3, a, 4, 0, 0);
    driver.publish(3);
    assertThat(q.pop().head()).isEqualTo(3);
  }

  @Test
  void buffersOutsideGuestMemoryOrWrongOrderFailTheChain() throws Exception {
    activate(false, true);
    driver.writeDescriptor(0, (1 << 20) - 2, 4, 0, 0);
    driver.publish(0);
    assertThatThrownBy(q::pop)
        .isInstanceOf(InvalidChainException.class)
        .hasMessageContaining("outside guest memory");
    driver.writeDescriptor(1, -8L, 16, 0, 0);
    driver.publish(1);
    assertThatThrownBy(q::pop).isInstanceOf(InvalidChainException.class);
    long a = driver.alloc(4);
    driver.writeDescriptor(2, a, 4, Virtqueue.F_WRITE | Virtqueue.F_NEXT, 3);
    driver.writeDescriptor(3, a, 4, 0, 0);
    driver.publish(2);
    assertThatThrownBy(q::pop)
        .isInstanceOf(InvalidChainException.class)
        .hasMessageContaining("after a writable");
    driver.writeDescriptor(4, a, 4, Virtqueue.F_NEXT, 99);
    driver.publish(4);
    assertThatThrownBy(q::pop)
        .isInstanceOf(InvalidChainException.class)
        .hasMessageContaining("next index 99");
    // Two 1.5 GiB claims overflow the int total even though neither is in memory.
    driver.writeDescriptor(5, 0, 0x60000000, Virtqueue.F_NEXT, 6);
    driver.writeDescriptor(6, 0, 0x60000000, 0, 0);
    driver.publish(5);
    assertThatThrownBy(q::pop).isInstanceOf(InvalidChainException.class);
    driver.writeDescriptor(7, 0, -1, 0, 0);
    driver.publish(7);
    assertThatThrownBy(q::pop)
        .isInstanceOf(InvalidChainException.class)
        .hasMessageContaining("2 GiB");
  }

  @Test
  void badAvailIndexOrHeadBreaksTheQueue() throws Exception {
    activate(false, false);
    driver.setAvailIdx(17);
    assertThatThrownBy(q::pop)
        .isInstanceOf(QueueBrokenException.class)
        .hasMessageContaining("ahead");
    q.reset();
    activate(false, false);
    driver.setAvailIdx(0);
    driver.publish(300);
    assertThatThrownBy(q::pop)
        .isInstanceOf(QueueBrokenException.class)
        .hasMessageContaining("names descriptor 300");
  }

  @Test
  void validationRejectsBadSizesAlignmentAndRingsOutsideMemory() {
    driver.configure(q);
    assertThat(q.validate(fake.memory())).isNull();
    q.setSize(12);
    assertThat(q.validate(fake.memory())).contains("power of two");
    q.setSize(512);
    assertThat(q.validate(fake.memory())).contains("power of two");
    q.setSize(16);
    q.setUsedRing(0x3002);
    assertThat(q.validate(fake.memory())).contains("misaligned");
    q.setUsedRing((1 << 20) - 16);
    assertThat(q.validate(fake.memory())).contains("used ring");
    assertThatThrownBy(() -> q.activate(fake.memory(), false, false))
        .isInstanceOf(QueueBrokenException.class);
    assertThat(q.active()).isFalse();
    assertThatThrownBy(q::pop)
        .isInstanceOf(QueueBrokenException.class)
        .hasMessageContaining("not active");
  }

  @Test
  void undoPopReturnsTheChainToTheRing() throws Exception {
    activate(false, false);
    int head = driver.addChain(in(driver.alloc(1), 1));
    assertThat(q.pop().head()).isEqualTo(head);
    q.undoPop();
    assertThat(q.pop().head()).isEqualTo(head);
  }

  @Test
  void withoutEventIdxHonoursNoInterruptFlagAndSetsNoNotify() throws Exception {
    activate(false, false);
    driver.addChain(in(driver.alloc(1), 1));
    q.addUsed(q.pop().head(), 0);
    assertThat(q.needsNotification()).isTrue();
    driver.setAvailFlags(Virtqueue.AVAIL_F_NO_INTERRUPT);
    assertThat(q.needsNotification()).isFalse();
    q.disableNotification();
    assertThat(driver.usedFlags()).isEqualTo(Virtqueue.USED_F_NO_NOTIFY);
    assertThat(q.enableNotification()).isFalse();
    assertThat(driver.usedFlags()).isZero();
  }

  @Test
  void eventIdxSuppressesInterruptsUntilUsedEventIsPassed() throws Exception {
    activate(true, false);
    long a = driver.alloc(1);
    // The driver asks to be interrupted once the used index passes 2 (i.e. after the 3rd use).
    driver.setUsedEvent(2);
    boolean[] notified = new boolean[4];
    for (int i = 0; i < 4; i++) {
      driver.addChain(in(a, 1));
      q.addUsed(q.pop().head(), 0);
      notified[i] = q.needsNotification();
    }
    // First decision always notifies (nothing signalled yet), then only when crossing used_event.
    assertThat(notified).containsExactly(true, false, true, false);
    // Batch: two used at once, crossing used_event 5, notifies once.
    driver.setUsedEvent(5);
    driver.addChain(in(a, 1));
    driver.addChain(in(a, 1));
    q.addUsed(q.pop().head(), 0);
    q.addUsed(q.pop().head(), 0);
    assertThat(q.needsNotification()).isTrue();
    assertThat(q.needsNotification()).isFalse();
  }

  @Test
  void eventIdxEnableNotificationPublishesAvailEventAndRechecks() throws Exception {
    activate(true, false);
    long a = driver.alloc(1);
    driver.addChain(in(a, 1));
    driver.addChain(in(a, 1));
    q.pop();
    assertThat(q.enableNotification()).isTrue();
    assertThat(driver.availEvent()).isEqualTo(1);
    q.pop();
    assertThat(q.enableNotification()).isFalse();
    assertThat(driver.availEvent()).isEqualTo(2);
  }

  @Test
  void indicesWrapAt65536() throws Exception {
    activate(true, true);
    long a = driver.alloc(1);
    for (int i = 0; i < 70_000; i++) {
      driver.addChain(in(a, 1));
      DescriptorChain c = q.pop();
      q.addUsed(c.head(), 1);
    }
    assertThat(q.nextAvail()).isEqualTo(70_000 & 0xffff);
    assertThat(driver.usedIdx()).isEqualTo(70_000 & 0xffff);
  }
}
