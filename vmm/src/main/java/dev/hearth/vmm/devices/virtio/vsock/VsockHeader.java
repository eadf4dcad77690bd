package dev.hearth.vmm.devices.virtio.vsock;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;

/**
 * The 44-byte {@code virtio_vsock_hdr} in front of every vsock packet.
 *
 * @param len bytes of payload after the header (RW only)
 * @param bufAlloc the sender's receive buffer size (credit)
 * @param fwdCnt bytes the sender has consumed from its receive buffer (credit)
 */
record VsockHeader(
    long srcCid,
    long dstCid,
    int srcPort,
    int dstPort,
    int len,
    int type,
    int op,
    int flags,
    int bufAlloc,
    int fwdCnt) {
  static final int SIZE = 44;
  static final int TYPE_STREAM = 1;
  static final int OP_REQUEST = 1;
  static final int OP_RESPONSE = 2;
  static final int OP_RST = 3;
  static final int OP_SHUTDOWN = 4;
  static final int OP_RW = 5;
  static final int OP_CREDIT_UPDATE = 6;
  static final int OP_CREDIT_REQUEST = 7;
  static final int SHUTDOWN_RCV = 1;
  static final int SHUTDOWN_SEND = 2;

  /** A stream header from the host (CID 2) to the guest at {@code guestCid}. */
  static VsockHeader toGuest(
      long guestCid,
      int srcPort,
      int dstPort,
      int len,
      int op,
      int flags,
      int bufAlloc,
      int fwdCnt) {
    return new VsockHeader(
        VirtioVsock.HOST_CID,
        guestCid,
        srcPort,
        dstPort,
        len,
        TYPE_STREAM,
        op,
        flags,
        bufAlloc,
        fwdCnt);
  }

  static VsockHeader decode(byte[] b) {
    ByteBuffer h = ByteBuffer.wrap(b).order(ByteOrder.LITTLE_ENDIAN);
    return new VsockHeader(
        h.getLong(0),
        h.getLong(8),
        h.getInt(16),
        h.getInt(20),
        h.getInt(24),
        h.getShort(28) & 0xffff,
        h.getShort(30) & 0xffff,
        h.getInt(32),
        h.getInt(36),
        h.getInt(40));
  }

  byte[] encode() {
    ByteBuffer h = ByteBuffer.allocate(SIZE).order(ByteOrder.LITTLE_ENDIAN);
    h.putLong(0, srcCid)
        .putLong(8, dstCid)
        .putInt(16, srcPort)
        .putInt(20, dstPort)
        .putInt(24, len)
        .putShort(28, (short) type)
        .putShort(30, (short) op)
        .putInt(32, flags)
        .putInt(36, bufAlloc)
        .putInt(40, fwdCnt);
    return h.array();
  }
}
