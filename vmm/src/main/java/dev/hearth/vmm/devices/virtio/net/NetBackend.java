package dev.hearth.vmm.devices.virtio.net;

import java.io.Closeable;
import java.io.IOException;
import java.nio.ByteBuffer;

/**
 * The host side of a virtio-net device: a tap opened with {@code IFF_TAP | IFF_NO_PI |
 * IFF_VNET_HDR} and a vnet header size of {@link VirtioNet#VNET_HDR_SIZE} (12: the {@code
 * virtio_net_hdr_v1}). Every frame crossing it carries that header first. Non-blocking.
 */
public interface NetBackend extends Closeable {

  /**
   * Reads one frame (header included) into {@code dst} from its position. Returns the bytes read,
   * or 0 when no frame is waiting (EAGAIN).
   */
  int read(ByteBuffer dst) throws IOException;

  /** Writes one frame (header included) gathered from {@code frame}, in one write. */
  void write(ByteBuffer[] frame) throws IOException;

  /**
   * The virtio-net offload feature bits this backend can honour ({@link VirtioNet#F_CSUM}, {@link
   * VirtioNet#F_GUEST_CSUM}, the TSO/UFO bits); the device offers only these.
   */
  long offloadFeatures();

  /**
   * Tells the tap which offloads the guest accepts for frames sent to it (TUNSETOFFLOAD with
   * TUN_F_* flags), after feature negotiation.
   */
  void setOffloads(int tunFlags) throws IOException;
}
