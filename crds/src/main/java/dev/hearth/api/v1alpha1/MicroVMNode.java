package dev.hearth.api.v1alpha1;

import com.fasterxml.jackson.annotation.JsonInclude;
import io.fabric8.crd.generator.annotation.AdditionalPrinterColumn;
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
    type = AdditionalPrinterColumn.Type.STRING)
@AdditionalPrinterColumn(
    name = "vCPUs",
    jsonPath = ".status.allocatable.vcpus",
    type = AdditionalPrinterColumn.Type.INTEGER)
@AdditionalPrinterColumn(
    name = "MemoryMiB",
    jsonPath = ".status.allocatable.memoryMiB",
    type = AdditionalPrinterColumn.Type.INTEGER)
@AdditionalPrinterColumn(
    name = "Agent",
    jsonPath = ".status.agentVersion",
    type = AdditionalPrinterColumn.Type.STRING)
@AdditionalPrinterColumn(
    name = "Age",
    jsonPath = ".metadata.creationTimestamp",
    type = AdditionalPrinterColumn.Type.DATE)
@JsonInclude(JsonInclude.Include.NON_NULL)
public class MicroVMNode extends CustomResource<MicroVMNodeSpec, MicroVMNodeStatus> {}
