package dev.hearth.vmm.devices.legacy;

/**
 * A {@link GuestExitPort}'s report, kept so that a VM restored after its init reported still ends
 * with that report.
 *
 * @param report the well-formed value the guest wrote ({@link GuestExitPort#decode}), or 0 if it
 *     has not reported yet
 */
public record GuestExitState(int report) {
  public GuestExitState {
    if (report != 0 && GuestExitPort.decode(report).isEmpty()) {
      throw new IllegalArgumentException(
          "guest exit report 0x" + Integer.toHexString(report) + " is not a well-formed report");
    }
  }
}
