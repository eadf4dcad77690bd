package dev.hearth.agent.local;

/** This machine cannot run VMs as asked: KVM is missing or not permitted, or refused the VM. */
public class HostUnavailableException extends RunException {
  public HostUnavailableException(String message) {
    super(message);
  }

  public HostUnavailableException(String message, Throwable cause) {
    super(message, cause);
  }
}
