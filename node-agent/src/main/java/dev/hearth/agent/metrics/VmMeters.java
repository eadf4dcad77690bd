package dev.hearth.agent.metrics;

/**
 * What the VM layer reports about one running VM: the runtime feeds it from the VMM's counters, and
 * the agent turns it into per-VM Prometheus series. Implementations are thread-safe and cheap
 * enough to call per exit or per request.
 */
public interface VmMeters {
  /** Direction of block I/O. */
  enum BlockOp {
    READ,
    WRITE
  }

  /** Direction of network traffic, seen from the guest. */
  enum NetDirection {
    RX,
    TX
  }

  /** {@code count} more exits of vCPU loop {@code vcpu}. */
  void vcpuExits(int vcpu, long count);

  void blockBytes(String drive, BlockOp op, long bytes);

  void netBytes(String iface, NetDirection direction, long bytes);

  /**
   * A rate limiter on {@code device} held back {@code count} more requests; {@code bucket} is
   * bandwidth or ops.
   */
  void throttled(String device, String bucket, long count);

  /** Meters that record nothing, for VMs run outside an agent. */
  VmMeters NONE =
      new VmMeters() {
        @Override
        public void vcpuExits(int vcpu, long count) {}

        @Override
        public void blockBytes(String drive, BlockOp op, long bytes) {}

        @Override
        public void netBytes(String iface, NetDirection direction, long bytes) {}

        @Override
        public void throttled(String device, String bucket, long count) {}
      };
}
