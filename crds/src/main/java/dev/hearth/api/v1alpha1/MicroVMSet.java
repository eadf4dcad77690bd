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

/** Keeps a number of MicroVMs from one template; scalable with kubectl scale and an HPA. */
@JsonClassDescription(
    "Keeps a number of identical MicroVMs from one template, as a ReplicaSet keeps Pods; it owns"
        + " them (deleting the set deletes them) and scales with kubectl scale or an HPA.")
@Group(HearthApi.GROUP)
@Version(HearthApi.VERSION)
@Kind("MicroVMSet")
@Plural("microvmsets")
@Singular("microvmset")
@ShortNames({"mvmset", "mvmsets"})
@Categories("hearth")
// Columns appear in the order declared here (see MicroVM).
@AdditionalPrinterColumn(
    name = "Desired",
    jsonPath = ".spec.replicas",
    type = AdditionalPrinterColumn.Type.INTEGER,
    getDescription = "How many MicroVMs the set should keep.")
@AdditionalPrinterColumn(
    name = "Current",
    jsonPath = ".status.replicas",
    type = AdditionalPrinterColumn.Type.INTEGER,
    getDescription = "How many MicroVMs the set owns now.")
@AdditionalPrinterColumn(
    name = "Ready",
    jsonPath = ".status.readyReplicas",
    type = AdditionalPrinterColumn.Type.INTEGER,
    getDescription = "How many of them are Running.")
@AdditionalPrinterColumn(
    name = "Age",
    jsonPath = ".metadata.creationTimestamp",
    type = AdditionalPrinterColumn.Type.DATE)
@ValidationRule(
    value = "has(self.spec)",
    message = "spec is required: a MicroVMSet needs spec.selector and spec.template",
    fieldPath = ".spec",
    reason = "FieldValueRequired")
@ValidationRule(
    value = "size(self.metadata.name) <= 63",
    message =
        "metadata.name must be at most 63 characters: it becomes the value of the hearth.dev/set"
            + " label on the set's MicroVMs")
@ValidationRule(
    value =
        "!has(self.spec) || !has(self.spec.template) || !has(self.spec.template.metadata)"
            + " || !has(self.spec.template.metadata.labels)"
            + " || !('hearth.dev/set' in self.spec.template.metadata.labels)"
            + " || self.spec.template.metadata.labels['hearth.dev/set'] == self.metadata.name",
    message =
        "spec.template.metadata.labels: hearth.dev/set is set by the operator to the set's name;"
            + " leave it out or give the set's name",
    fieldPath = ".spec.template.metadata.labels")
@JsonInclude(JsonInclude.Include.NON_NULL)
public class MicroVMSet extends CustomResource<MicroVMSetSpec, MicroVMSetStatus>
    implements Namespaced {}
