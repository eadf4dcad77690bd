package dev.hearth.vmm.devices;

/**
 * One interrupt line from a device to the guest's interrupt controller. The VM wires it to an irqfd
 * (an eventfd registered with KVM for one GSI); tests wire it to a counter.
 */
@FunctionalInterface
public interface InterruptLine {

  /** Signals the interrupt (an edge on its GSI). Safe to call from any thread. */
  void trigger();
}
