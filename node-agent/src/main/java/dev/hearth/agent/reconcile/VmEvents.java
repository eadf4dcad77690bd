package dev.hearth.agent.reconcile;

import dev.hearth.api.client.EventRecorder;
import dev.hearth.api.v1alpha1.MicroVM;
import java.util.function.Supplier;

/**
 * The Events of one VM, recorded on the latest version of it that its supervisor has seen.
 *
 * @param latest the VM as last seen (from the informer, or read after a back-off)
 */
record VmEvents(EventRecorder recorder, Supplier<MicroVM> latest) {
  void normal(String reason, String message) {
    recorder.normal(latest.get(), reason, message);
  }

  void warning(String reason, String message) {
    recorder.warning(latest.get(), reason, message);
  }
}
