package dev.hearth.agent.local;

import dev.hearth.vmm.vm.ExitReason;

/** The exit status of {@code hearth run} for each way a guest can end. */
public final class ExitCodes {
  /** The guest crashed or KVM could not emulate one of its instructions. */
  public static final int GUEST_FAILED = 1;

  /** The VMM itself failed. */
  public static final int VMM_FAILED = 4;

  private ExitCodes() {}

  /** 0 when the guest ended on its own terms; otherwise a status saying who failed. */
  public static int of(ExitReason reason) {
    return switch (reason) {
      case RESET, SHUTDOWN, HALTED -> 0;
      case CRASHED, EMULATION_FAILURE -> GUEST_FAILED;
      case STOPPED -> LocalRunner.STOPPED;
      case VMM_ERROR -> VMM_FAILED;
    };
  }
}
