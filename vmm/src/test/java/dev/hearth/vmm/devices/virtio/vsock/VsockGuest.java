package dev.hearth.vmm.devices.virtio.vsock;

import static dev.hearth.vmm.devices.virtio.queue.MockDriver.Buf.in;
import static dev.hearth.vmm.devices.virtio.queue.MockDriver.Buf.out;

import dev.hearth.vmm.devices.virtio.DeviceHarness;
import dev.hearth.vmm.devices.virtio.queue.MockDriver;
import java.util.ArrayList;
import java.util.List;

/** The guest side of vsock for tests: sends packets on TX, posts and reads RX buffers. */
final class VsockGuest {
  static final long CID = 3;
  final DeviceHarness h;
  final MockDriver rx;
  final MockDriver tx;
  private final List<Long> rxBufs = new ArrayList<>();

  VsockGuest(DeviceHarness h) {
    this.h = h;
    this.rx = h.queue(VirtioVsock.RX);
    this.tx = h.queue(VirtioVsock.TX);
  }

  /** Posts {@code n} receive buffers of 4 KiB. */
  void postRx(int n) {
    for (int i = 0; i < n; i++) {
      long b = rx.alloc(4096);
      rxBufs.add(b);
      rx.addChain(out(b, 4096));
    }
    h.mmio.notify(VirtioVsock.RX);
  }

  void send(int op, int srcPort, int dstPort, byte[] data, int flags, int bufAlloc, int fwdCnt) {
    VsockHeader hdr =
        new VsockHeader(
            CID,
            2,
            srcPort,
            dstPort,
            data.length,
            VsockHeader.TYPE_STREAM,
            op,
            flags,
            bufAlloc,
            fwdCnt);
    long ha = tx.alloc(VsockHeader.SIZE);
    tx.write(ha, hdr.encode());
    if (data.length == 0) {
      tx.addChain(in(ha, VsockHeader.SIZE));
    } else {
      // Large payloads share one buffer, so long tests do not exhaust the mock's space.
      long da = data.length > 4096 ? bigBuffer() : tx.alloc(data.length);
      tx.write(da, data);
      tx.addChain(in(ha, VsockHeader.SIZE), in(da, data.length));
    }
    h.mmio.notify(VirtioVsock.TX);
  }

  void send(int op, int srcPort, int dstPort, byte[] data) {
    send(op, srcPort, dstPort, data, 0, 65536, 0);
  }

  private long big = -1;

  private long bigBuffer() {
    if (big < 0) {
      big = tx.alloc(VirtioVsock.MAX_PAYLOAD);
    }
    return big;
  }

  private long scratch = -1;

  /**
   * Sends a header-only packet from a slot of its own per ring entry, so floods need no more buffer
   * space; returns false, sending nothing, while every TX entry is still held by the device.
   */
  boolean sendHeader(int op, int srcPort, int dstPort, int flags, int bufAlloc, int fwdCnt) {
    if (tx.pending() == tx.size()) {
      return false;
    }
    if (scratch < 0) {
      scratch = tx.alloc(VsockHeader.SIZE * tx.size());
    }
    long at = scratch + (long) VsockHeader.SIZE * (tx.availIdx() % tx.size());
    VsockHeader hdr =
        new VsockHeader(
            CID, 2, srcPort, dstPort, 0, VsockHeader.TYPE_STREAM, op, flags, bufAlloc, fwdCnt);
    tx.write(at, hdr.encode());
    tx.addChain(in(at, VsockHeader.SIZE));
    h.mmio.notify(VirtioVsock.TX);
    return true;
  }

  /** Sends {@code len} bytes of RW payload from one shared buffer (contents irrelevant). */
  boolean sendData(int srcPort, int dstPort, int len) {
    if (tx.pending() > tx.size() - 2) {
      return false;
    }
    long at = tx.alloc(VsockHeader.SIZE);
    VsockHeader hdr =
        new VsockHeader(CID, 2, srcPort, dstPort, len, VsockHeader.TYPE_STREAM, 5, 0, 65536, 0);
    tx.write(at, hdr.encode());
    tx.addChain(in(at, VsockHeader.SIZE), in(bigBuffer(), len));
    h.mmio.notify(VirtioVsock.TX);
    return true;
  }

  /** Forgets TX buffer allocations; call only when the device has used every TX chain. */
  void freeTx() {
    tx.takeUsed();
    scratch = -1;
    big = -1;
    tx.freeAllBuffers(tx.dataStart());
  }

  /** Packets received since the last call; each receive buffer goes back to the device. */
  List<Packet> receivedRecycling() {
    List<Packet> out = new ArrayList<>();
    List<Long> addrs = new ArrayList<>();
    for (MockDriver.Used u : rx.takeUsed()) {
      long addr = rx.descriptorAddr(u.head());
      VsockHeader hdr = VsockHeader.decode(rx.read(addr, VsockHeader.SIZE));
      out.add(new Packet(hdr, rx.read(addr + VsockHeader.SIZE, hdr.len())));
      addrs.add(addr);
    }
    addrs.forEach(addr -> rx.addChain(out(addr, 4096)));
    h.mmio.notify(VirtioVsock.RX);
    return out;
  }

  record Packet(VsockHeader header, byte[] data) {}

  /** Packets the device put in receive buffers since the last call. */
  List<Packet> received() {
    List<Packet> out = new ArrayList<>();
    for (MockDriver.Used u : rx.takeUsed()) {
      long addr = rx.descriptorAddr(u.head());
      byte[] hb = rx.read(addr, VsockHeader.SIZE);
      VsockHeader hdr = VsockHeader.decode(hb);
      out.add(new Packet(hdr, rx.read(addr + VsockHeader.SIZE, hdr.len())));
    }
    return out;
  }
}
