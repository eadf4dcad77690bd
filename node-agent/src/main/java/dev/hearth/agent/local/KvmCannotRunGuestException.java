package dev.hearth.agent.local;

/**
 * This host's KVM opens but cannot run the guest's kernel: Linux on a KVM that only emulates
 * instructions ({@code kvm_pvm} without hardware virtualisation), where it would spin for minutes
 * without a word. The nested-KVM harness can run it ({@code ./hearth} does so).
 */
public final class KvmCannotRunGuestException extends HostUnavailableException {
  public KvmCannotRunGuestException(String message) {
    super(message);
  }
}
