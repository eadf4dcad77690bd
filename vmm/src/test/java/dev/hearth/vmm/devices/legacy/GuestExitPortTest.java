package dev.hearth.vmm.devices.legacy;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.hearth.vmm.snapshot.SnapshotException;
import dev.hearth.vmm.snapshot.StateCodec;
import org.junit.jupiter.api.Test;

class GuestExitPortTest {
  private static byte[] le(int v) {
    return new byte[] {(byte) v, (byte) (v >>> 8), (byte) (v >>> 16), (byte) (v >>> 24)};
  }

  @Test
  void theFirstWellFormedReportCounts() {
    GuestExitPort port = new GuestExitPort();
    assertThat(port.status()).isEmpty();
    port.write(0, le(0x4845_0003));
    port.write(0, le(0x4845_0000)); // a second report does not replace the first
    assertThat(port.status()).contains(new GuestExitPort.Status(GuestExitPort.Kind.EXITED, 3));
  }

  @Test
  void signalsAndStartFailuresAreTheirOwnKinds() {
    assertThat(GuestExitPort.decode(0x4845_0109))
        .contains(new GuestExitPort.Status(GuestExitPort.Kind.SIGNALLED, 9));
    assertThat(GuestExitPort.decode(0x4845_027f))
        .contains(new GuestExitPort.Status(GuestExitPort.Kind.NOT_STARTED, 127));
  }

  @Test
  void malformedWritesAreIgnored() {
    GuestExitPort port = new GuestExitPort();
    port.write(0, new byte[] {1}); // a byte, not the 32-bit report
    port.write(1, le(0x4845_0001)); // not at the port's start
    port.write(0, le(0x1234_0001)); // no magic
    port.write(0, le(0x4845_0301)); // unknown kind
    assertThat(port.status()).isEmpty();
    byte[] read = {7, 7, 7, 7};
    port.read(0, read);
    assertThat(read).containsOnly(0);
  }

  @Test
  void aReportSurvivesSaveAndRestore() {
    GuestExitPort before = new GuestExitPort();
    GuestExitPort twin = new GuestExitPort();
    twin.restoreState(before.saveState());
    assertThat(twin.status()).isEmpty(); // not reported yet: the restored guest may still report
    before.write(0, le(0x4845_0109));
    GuestExitState saved = before.saveState();
    GuestExitPort restored = new GuestExitPort();
    restored.restoreState(saved);
    assertThat(restored.status())
        .contains(new GuestExitPort.Status(GuestExitPort.Kind.SIGNALLED, 9));
    restored.write(0, le(0x4845_0000)); // the restored report is the first one still
    assertThat(restored.status()).contains(before.status().orElseThrow());
    assertThat(restored.saveState()).isEqualTo(saved);
  }

  @Test
  void aStateWithAMalformedReportIsRefused() {
    byte[] bytes = StateCodec.encode(new GuestExitState(0x4845_0001));
    assertThat(StateCodec.decode(bytes, GuestExitState.class).report()).isEqualTo(0x4845_0001);
    java.nio.ByteBuffer.wrap(bytes).putInt(0, 0x1234_0001);
    assertThatThrownBy(() -> StateCodec.decode(bytes, GuestExitState.class))
        .isInstanceOf(SnapshotException.class)
        .hasMessageContaining("not a well-formed report");
  }
}
