package dev.hearth.api.v1alpha1;

import com.fasterxml.jackson.annotation.JsonInclude;
import io.fabric8.crd.generator.annotation.AdditionalPrinterColumn;
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
@Group(HearthApi.GROUP)
@Version(HearthApi.VERSION)
@Kind("MicroVM")
@Plural("microvms")
@Singular("microvm")
@ShortNames("mvm")
@Categories("hearth")
@AdditionalPrinterColumn(
    name = "IP",
    jsonPath = ".status.network[0].ip",
    type = AdditionalPrinterColumn.Type.STRING)
@AdditionalPrinterColumn(
    name = "Age",
    jsonPath = ".metadata.creationTimestamp",
    type = AdditionalPrinterColumn.Type.DATE)
@JsonInclude(JsonInclude.Include.NON_NULL)
public class MicroVM extends CustomResource<MicroVMSpec, MicroVMStatus> implements Namespaced {}
