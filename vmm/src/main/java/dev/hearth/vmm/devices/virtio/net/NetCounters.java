package dev.hearth.vmm.devices.virtio.net;

/** Per-device frame counts. Written on the device's event-loop thread; read for metrics. */
public final class NetCounters {
  volatile long rxFrames;
  volatile long rxBytes;
  volatile long rxDropped;
  volatile long rxErrors;
  volatile long txFrames;
  volatile long txBytes;
  volatile long txDropped;
  volatile long txErrors;

  public long rxFrames() {
    return rxFrames;
  }

  public long rxBytes() {
    return rxBytes;
  }

  /** Frames lost because they were malformed or the guest's buffer was too small. */
  public long rxDropped() {
    return rxDropped;
  }

  public long rxErrors() {
    return rxErrors;
  }

  public long txFrames() {
    return txFrames;
  }

  public long txBytes() {
    return txBytes;
  }

  /** Guest frames refused as malformed (wrong direction, too short, too long). */
  public long txDropped() {
    return txDropped;
  }

  /** Frames the tap refused. */
  public long txErrors() {
    return txErrors;
  }
}
