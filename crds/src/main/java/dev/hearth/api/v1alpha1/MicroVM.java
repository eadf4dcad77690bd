package dev.hearth.api.v1alpha1;

import com.fasterxml.jackson.annotation.JsonClassDescription;
import com.fasterxml.jackson.annotation.JsonInclude;
import io.fabric8.crd.generator.annotation.AdditionalPrinterColumn;
import io.fabric8.generator.annotation.ValidationRule;
import io.fabric8.kubernetes.api.model.Namespaced;
import io.fabric8.kubernetes.client.CustomResource;
import io.fabric8.kubernetes.model.annotation.Categories;
import io.fabric8.kubernetes.model.annotation.Group;
import io.fabric8.kubernetes.model.annotation.Kind;
import io.fabric8.kubernetes.model.annotation.Plural;
import io.fabric8.kubernetes.model.annotation.ShortNames;
import io.fabric8.kubernetes.model.annotation.Singular;
import io.fabric8.kubernetes.model.annotation.Version;

/** A KVM microVM that the operator places on a node and that node's agent boots. */
@JsonClassDescription(
    "A KVM microVM: the operator places it on a node that runs the Hearth agent, and that agent"
        + " boots it (kernel, disks, network interfaces, vsock) and reports its phase and address.")
@Group(HearthApi.GROUP)
@Version(HearthApi.VERSION)
@Kind("MicroVM")
@Plural("microvms")
@Singular("microvm")
@ShortNames("mvm")
@Categories("hearth")
// Columns appear in the order declared here (phase, node, IP, ...): the generator sorts them by
// jsonPath, and the crds build puts them back in this order (CrdPostProcessor, a test-scope
// build step). Declare every column here, none with @PrinterColumn on a field.
@AdditionalPrinterColumn(
    name = "Phase",
    jsonPath = ".status.phase",
    type = AdditionalPrinterColumn.Type.STRING,
    getDescription =
        "Where the VM is in its life: Pending, Scheduled, Starting, Running, Succeeded, Failed or"
            + " Unknown.")
@AdditionalPrinterColumn(
    name = "Node",
    jsonPath = ".status.nodeName",
    type = AdditionalPrinterColumn.Type.STRING,
    getDescription = "The node the operator bound the VM to.")
@AdditionalPrinterColumn(
    name = "IP",
    jsonPath = ".status.network[0].ip",
    type = AdditionalPrinterColumn.Type.STRING,
    getDescription = "IPv4 address of the first network interface.")
@AdditionalPrinterColumn(
    name = "Ready",
    jsonPath = ".status.conditions[?(@.type==\"Ready\")].status",
    type = AdditionalPrinterColumn.Type.STRING,
    getDescription = "Whether the guest runs: the status of the Ready condition.")
@AdditionalPrinterColumn(
    name = "Restarts",
    jsonPath = ".status.restartCount",
    type = AdditionalPrinterColumn.Type.INTEGER,
    getDescription = "How many times the agent has restarted the VM.")
@AdditionalPrinterColumn(
    name = "Age",
    jsonPath = ".metadata.creationTimestamp",
    type = AdditionalPrinterColumn.Type.DATE)
@AdditionalPrinterColumn(
    name = "RunState",
    jsonPath = ".status.runState",
    type = AdditionalPrinterColumn.Type.STRING,
    priority = 1,
    getDescription = "Whether the guest runs: Running, Paused or Suspended (see spec.runState).")
@AdditionalPrinterColumn(
    name = "vCPUs",
    jsonPath = ".spec.vcpus",
    type = AdditionalPrinterColumn.Type.INTEGER,
    priority = 1,
    getDescription = "Number of virtual CPUs.")
@AdditionalPrinterColumn(
    name = "MemoryMiB",
    jsonPath = ".spec.memoryMiB",
    type = AdditionalPrinterColumn.Type.INTEGER,
    priority = 1,
    getDescription = "Guest memory in MiB.")
// On MicroVM only, not on MicroVMSpec, which a MicroVMSet's template shares: a template may be
// retargeted. A transition rule, so it is not checked on create; setting or removing a pin later
// is allowed, as the field-level rule allowed before.
@ValidationRule(
    value =
        "!has(self.spec) || !has(oldSelf.spec) || !has(self.spec.nodeName)"
            + " || !has(oldSelf.spec.nodeName) || self.spec.nodeName == oldSelf.spec.nodeName",
    message = "spec.nodeName is immutable",
    fieldPath = ".spec.nodeName")
// Restore needs the snapshot's vCPU count and memory size: a VM that stays Suspended keeps them.
@ValidationRule(
    value =
        "!has(self.spec) || !has(oldSelf.spec)"
            + " || !has(self.spec.runState) || self.spec.runState != 'Suspended'"
            + " || !has(oldSelf.spec.runState) || oldSelf.spec.runState != 'Suspended'"
            + " || ((has(self.spec.vcpus) ? self.spec.vcpus : 1)"
            + " == (has(oldSelf.spec.vcpus) ? oldSelf.spec.vcpus : 1)"
            + " && (has(self.spec.memoryMiB) ? self.spec.memoryMiB : 128)"
            + " == (has(oldSelf.spec.memoryMiB) ? oldSelf.spec.memoryMiB : 128))",
    message =
        "vcpus and memoryMiB cannot change while the VM stays Suspended: its snapshot holds that"
            + " many vCPUs and that much memory (set runState Running with the change to boot it"
            + " afresh, or resume it first)",
    fieldPath = ".spec.runState")
@ValidationRule(
    value = "has(self.spec)",
    message = "spec is required: a MicroVM needs at least spec.kernel.source",
    fieldPath = ".spec",
    reason = "FieldValueRequired")
@JsonInclude(JsonInclude.Include.NON_NULL)
public class MicroVM extends CustomResource<MicroVMSpec, MicroVMStatus> implements Namespaced {
  /** Whether its status says it has {@linkplain MicroVMPhase#finished() finished}. */
  public boolean finished() {
    return getStatus() != null
        && getStatus().getPhase() != null
        && getStatus().getPhase().finished();
  }
}
