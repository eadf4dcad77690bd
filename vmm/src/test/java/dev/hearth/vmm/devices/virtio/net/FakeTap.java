package dev.hearth.vmm.devices.virtio.net;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Deque;
import java.util.List;

/** A tap in memory: frames queued for the guest, frames the guest sent. Test-only. */
public final class FakeTap implements NetBackend {
  public final Deque<byte[]> inbound = new ArrayDeque<>();
  public final List<byte[]> outbound = new ArrayList<>();
  public long offloads;
  public int tunFlags = -1;
  public boolean failWrites;

  /** Where frames come from once {@link #inbound} is empty; null for none. */
  public java.util.function.Supplier<byte[]> source;

  @Override
  public int read(ByteBuffer dst) {
    byte[] f = inbound.poll();
    if (f == null && source != null) {
      f = source.get();
    }
    if (f == null) {
      return 0;
    }
    int n = Math.min(f.length, dst.remaining());
    dst.put(f, 0, n);
    return n;
  }

  @Override
  public void write(ByteBuffer[] frame) throws IOException {
    if (failWrites) {
      throw new IOException("EAGAIN (simulated)");
    }
    int len = 0;
    for (ByteBuffer b : frame) {
      len += b.remaining();
    }
    byte[] out = new byte[len];
    int at = 0;
    for (ByteBuffer b : frame) {
      int n = b.remaining();
      b.get(out, at, n);
      at += n;
    }
    outbound.add(out);
  }

  @Override
  public long offloadFeatures() {
    return offloads;
  }

  @Override
  public void setOffloads(int tunFlags) {
    this.tunFlags = tunFlags;
  }

  @Override
  public void close() {}
}
