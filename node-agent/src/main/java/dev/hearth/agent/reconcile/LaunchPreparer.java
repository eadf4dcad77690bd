package dev.hearth.agent.reconcile;

import dev.hearth.agent.image.ImageException;
import dev.hearth.agent.image.ImageRef;
import dev.hearth.agent.image.ImageReference;
import dev.hearth.agent.image.KubernetesPullSecrets;
import dev.hearth.agent.image.PullProgress;
import dev.hearth.agent.image.PullSecrets;
import dev.hearth.agent.ipam.IpamException;
import dev.hearth.agent.metrics.VmMeters;
import dev.hearth.agent.net.Attachment;
import dev.hearth.agent.net.NetworkException;
import dev.hearth.agent.net.NodeNetwork;
import dev.hearth.agent.runtime.VmLaunch;
import dev.hearth.agent.spec.LaunchImages;
import dev.hearth.agent.spec.PlanImages;
import dev.hearth.agent.spec.VmPlan;
import dev.hearth.api.v1alpha1.HearthApi;
import java.io.OutputStream;
import java.nio.file.Path;
import java.util.List;
import java.util.Optional;

/**
 * Turns a {@link VmPlan} into a {@link VmLaunch}: fetches images through {@link LaunchImages} (held
 * for the VM's uid in the cache; each writable disk a copy under the VM's directory), and wires the
 * network. Failures become a {@link PrepareException} with the condition reason.
 */
final class LaunchPreparer {
  private final AgentContext ctx;

  LaunchPreparer(AgentContext ctx) {
    this.ctx = ctx;
  }

  /**
   * A launch plus the interfaces wired for it.
   *
   * @param containerImage a container VM's image, pinned to the manifest digest it was pulled by
   */
  record Prepared(
      VmLaunch launch, List<Attachment> attachments, Optional<ImageReference> containerImage) {}

  /**
   * Preparing or starting a VM's guest failed; {@code reason} is CamelCase for the Ready condition.
   */
  static final class PrepareException extends Exception {
    private final String reason;

    PrepareException(String reason, String message, Throwable cause) {
      super(message, cause);
      this.reason = reason;
    }

    String reason() {
      return reason;
    }
  }

  Prepared prepare(
      String namespace, String name, String uid, VmPlan plan, OutputStream console, VmMeters meters)
      throws PrepareException {
    return prepare(namespace, name, uid, plan, console, meters, PullProgress.NONE);
  }

  /** As above; OCI pulls report to {@code progress}. */
  Prepared prepare(
      String namespace,
      String name,
      String uid,
      VmPlan plan,
      OutputStream console,
      VmMeters meters,
      PullProgress progress)
      throws PrepareException {
    LaunchImages images;
    try {
      // The VM's own disks: made once, kept across restarts of the same VM, freed on delete.
      images =
          LaunchImages.prepare(
              plan,
              new PlanImages() {
                private final PullSecrets secrets =
                    new KubernetesPullSecrets(ctx.client(), namespace);

                @Override
                public Path resolve(String field, ImageRef source) throws ImageException {
                  return ctx.images().resolve(source, uid, secrets, progress);
                }

                @Override
                public ImageReference pin(String field, ImageRef.OciConfig image)
                    throws ImageException {
                  return ctx.images().pin(image.reference(), image.pullSecrets(), secrets);
                }
              },
              ctx.vmDir(uid).resolve("disks"),
              ctx.vmWritableBytes());
    } catch (ImageException e) {
      throw new PrepareException(e.reason(), e.getMessage(), e);
    }
    List<Attachment> attachments;
    try {
      attachments =
          ctx.network()
              .attach(
                  uid,
                  // Peers are the VMs of the same namespace (a name, never in rule text).
                  plan.networkPolicy().forGroup(namespace),
                  plan.nics().stream()
                      .map(n -> new NodeNetwork.InterfaceRequest(n.name(), n.mac()))
                      .toList());
    } catch (NetworkException | IpamException e) {
      throw new PrepareException(HearthApi.Reasons.NETWORK_SETUP_FAILED, e.getMessage(), e);
    }
    List<VmLaunch.Nic> nics =
        attachments.stream().map(a -> new VmLaunch.Nic(a.iface(), a.tap(), a.mac())).toList();
    VmLaunch launch =
        new VmLaunch(
            namespace + "/" + name,
            plan.vcpus(),
            plan.memoryMiB(),
            images.kernel(),
            images.initrd(),
            plan.generatedCmdline(name, attachments),
            plan.extraCmdline(),
            images.disks(),
            nics,
            plan.vsockCid(),
            plan.limits(),
            console,
            meters);
    return new Prepared(launch, attachments, images.containerImage());
  }
}
