package dev.hearth.api.v1alpha1;

import com.fasterxml.jackson.annotation.JsonClassDescription;
import com.fasterxml.jackson.annotation.JsonInclude;
import io.fabric8.crd.generator.annotation.AdditionalPrinterColumn;
import io.fabric8.generator.annotation.ValidationRule;
import io.fabric8.kubernetes.client.CustomResource;
import io.fabric8.kubernetes.model.annotation.Categories;
import io.fabric8.kubernetes.model.annotation.Group;
import io.fabric8.kubernetes.model.annotation.Kind;
import io.fabric8.kubernetes.model.annotation.Plural;
import io.fabric8.kubernetes.model.annotation.ShortNames;
import io.fabric8.kubernetes.model.annotation.Singular;
import io.fabric8.kubernetes.model.annotation.Version;

/**
 * One node that runs a Hearth agent (cluster-scoped, named like the node). The agent creates it and
 * reports capacity and KVM facts; nodeSelector matches its labels (and the core Node's).
 */
@JsonClassDescription(
    "A node that runs the Hearth agent (cluster-scoped, named like the node): the agent reports"
        + " its capacity and KVM facts, and the operator places MicroVMs by its labels, taints and"
        + " room.")
@Group(HearthApi.GROUP)
@Version(HearthApi.VERSION)
@Kind("MicroVMNode")
@Plural("microvmnodes")
@Singular("microvmnode")
@ShortNames("mvmnode")
@Categories("hearth")
// Columns appear in the order declared here (see MicroVM).
@AdditionalPrinterColumn(
    name = "Ready",
    jsonPath = ".status.conditions[?(@.type==\"Ready\")].status",
    type = AdditionalPrinterColumn.Type.STRING,
    getDescription = "Whether the node's agent is alive: the status of the Ready condition.")
@AdditionalPrinterColumn(
    name = "vCPUs",
    jsonPath = ".status.allocatable.vcpus",
    type = AdditionalPrinterColumn.Type.INTEGER,
    getDescription = "vCPUs MicroVMs may use on the node (allocatable).")
@AdditionalPrinterColumn(
    name = "MemoryMiB",
    jsonPath = ".status.allocatable.memoryMiB",
    type = AdditionalPrinterColumn.Type.INTEGER,
    getDescription = "Memory in MiB MicroVMs may use on the node (allocatable).")
@AdditionalPrinterColumn(
    name = "VMs",
    jsonPath = ".status.microVMs",
    type = AdditionalPrinterColumn.Type.INTEGER,
    getDescription = "How many MicroVMs are bound to the node.")
@AdditionalPrinterColumn(
    name = "Agent",
    jsonPath = ".status.agentVersion",
    type = AdditionalPrinterColumn.Type.STRING,
    getDescription = "Version of the node agent.")
@AdditionalPrinterColumn(
    name = "Age",
    jsonPath = ".metadata.creationTimestamp",
    type = AdditionalPrinterColumn.Type.DATE)
@ValidationRule(
    value = "size(self.metadata.name) <= 63",
    message =
        "metadata.name must be at most 63 characters: it becomes the value of the hearth.dev/node"
            + " label on the MicroVMs bound to this node")
@JsonInclude(JsonInclude.Include.NON_NULL)
public class MicroVMNode extends CustomResource<MicroVMNodeSpec, MicroVMNodeStatus> {}
