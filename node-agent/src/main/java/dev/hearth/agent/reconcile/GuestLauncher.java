package dev.hearth.agent.reconcile;

import dev.hearth.agent.image.PullProgress;
import dev.hearth.agent.metrics.VmMeters;
import dev.hearth.agent.net.Attachment;
import dev.hearth.agent.node.FdBudget;
import dev.hearth.agent.runtime.RunningVm;
import dev.hearth.agent.runtime.VmStartException;
import dev.hearth.agent.spec.VmPlan;
import dev.hearth.api.v1alpha1.HearthApi;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;

/**
 * Starts one VM's guest: holds the file descriptors its plan needs, prepares its launch (images,
 * network, console) and boots it, reporting it Starting meanwhile, or restores it from a snapshot.
 * A failure is a {@link LaunchPreparer.PrepareException} with the reason for the Ready condition.
 */
final class GuestLauncher {
  /** How often a long pull's progress is written to the VM's status. */
  static final Duration PROGRESS_EVERY = Duration.ofSeconds(5);

  private final SupervisedVm vm;
  private final VmMeters meters;
  private final LaunchPreparer preparer;

  /** A guest that runs, with the interfaces wired for it. */
  record Started(RunningVm vm, List<Attachment> attachments) {}

  GuestLauncher(SupervisedVm vm, VmMeters meters) {
    this.vm = vm;
    this.meters = meters;
    this.preparer = new LaunchPreparer(vm.ctx());
  }

  /**
   * Holds the descriptors {@code plan} needs (nothing of this VM runs now, so what it held before
   * is given back first: a spec change may add devices). A node with too few refuses with reason
   * OutOfFileDescriptors, which is not retried: it would only fail again.
   */
  void holdFileDescriptors(VmPlan plan) throws LaunchPreparer.PrepareException {
    vm.ctx().fds().release(vm.uid());
    int fds =
        FdBudget.perVm(
            plan.vcpus(), plan.disks().size(), plan.nics().size(), plan.vsockCid().isPresent());
    if (!vm.ctx().fds().tryHold(vm.uid(), fds)) {
      throw new LaunchPreparer.PrepareException(
          HearthApi.Reasons.OUT_OF_FILE_DESCRIPTORS,
          "node "
              + vm.ctx().nodeName()
              + " has no file descriptors left for this VM (it needs "
              + fds
              + "; "
              + vm.ctx().fds()
              + ", room for "
              + vm.ctx().fds().maxVms()
              + " idle VMs in all)",
          null);
    }
  }

  /**
   * Reports the VM Starting at generation {@code gen}, fetches (or pulls) its images, wires its
   * network and boots it.
   */
  Started boot(VmPlan plan, long gen) throws LaunchPreparer.PrepareException {
    List<String> pulls = plan.ociImages();
    String images = String.join(", ", pulls);
    vm.status()
        .starting(
            gen,
            pulls.isEmpty()
                ? "fetching images, wiring the network, booting"
                : "pulling image " + images + ", wiring the network, booting");
    if (!pulls.isEmpty()) {
      vm.events().normal(HearthApi.Reasons.PULLING, "pulling image " + images);
    }
    LaunchPreparer.Prepared prepared = prepare(plan, pullProgress(gen));
    if (!pulls.isEmpty()) {
      // A container's image by the manifest digest its tag named when pulled.
      String pulled =
          prepared
              .containerImage()
              .map(
                  pinned ->
                      images.replace(
                          plan.container().orElseThrow().config().reference().toString(),
                          pinned.toString()))
              .orElse(images);
      vm.events().normal(HearthApi.Reasons.PULLED, "image " + pulled + " ready on the node");
    }
    try {
      return new Started(vm.ctx().runtime().start(prepared.launch()), prepared.attachments());
    } catch (VmStartException e) {
      throw new LaunchPreparer.PrepareException(e.reason(), e.getMessage(), e);
    }
  }

  /** Prepares {@code plan} and goes on from the snapshot in {@code dir}. */
  Started restore(Path dir, VmPlan plan) throws LaunchPreparer.PrepareException {
    LaunchPreparer.Prepared prepared = prepare(plan);
    try {
      return new Started(
          vm.ctx().runtime().restore(dir, prepared.launch()), prepared.attachments());
    } catch (VmStartException e) {
      throw new LaunchPreparer.PrepareException(e.reason(), e.getMessage(), e);
    }
  }

  private LaunchPreparer.Prepared prepare(VmPlan plan) throws LaunchPreparer.PrepareException {
    return prepare(plan, PullProgress.NONE);
  }

  private LaunchPreparer.Prepared prepare(VmPlan plan, PullProgress progress)
      throws LaunchPreparer.PrepareException {
    return preparer.prepare(
        vm.namespace(),
        vm.name(),
        vm.uid(),
        plan,
        vm.ctx().consoles().open(vm.namespace(), vm.name()).asOutputStream(),
        meters,
        progress);
  }

  /**
   * A long pull's progress in the Ready condition's message, at most every {@link #PROGRESS_EVERY}:
   * a status write per chunk would flood the API server.
   */
  private PullProgress pullProgress(long gen) {
    return PullProgress.throttled(
        PROGRESS_EVERY,
        System::nanoTime,
        (image, done, total) ->
            vm.status()
                .starting(
                    gen,
                    "pulling image "
                        + image
                        + ": "
                        + (done >> 20)
                        + " of "
                        + (total >> 20)
                        + " MiB of layers, then wiring the network, booting"));
  }
}
