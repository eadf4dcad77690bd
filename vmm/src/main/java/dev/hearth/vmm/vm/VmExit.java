package dev.hearth.vmm.vm;

import java.time.Duration;
import java.util.HexFormat;
import java.util.Optional;

/**
 * How a microVM ended.
 *
 * @param reason why
 * @param message a sentence for humans
 * @param registers the crashing vCPU's registers, for crashes and emulation failures
 * @param instructionBytes for an emulation failure, the bytes KVM failed on (may be empty where KVM
 *     did not report them); empty otherwise
 * @param uptime how long the guest ran
 */
public record VmExit(
    ExitReason reason,
    String message,
    Optional<RegisterDump> registers,
    byte[] instructionBytes,
    Duration uptime) {

  public VmExit {
    instructionBytes = instructionBytes.clone();
  }

  @Override
  public byte[] instructionBytes() {
    return instructionBytes.clone();
  }

  /** Whether the guest ended on its own terms (reset or shutdown). */
  public boolean isClean() {
    return reason == ExitReason.RESET || reason == ExitReason.SHUTDOWN;
  }

  @Override
  public String toString() {
    StringBuilder sb = new StringBuilder(reason + ": " + message);
    if (instructionBytes.length > 0) {
      sb.append(" [instruction bytes ")
          .append(HexFormat.ofDelimiter(" ").formatHex(instructionBytes))
          .append(']');
    }
    registers.ifPresent(r -> sb.append('\n').append(r));
    return sb.toString();
  }
}
