/**
 * The API model of group {@code hearth.dev}, version {@code v1alpha1}: the kinds MicroVM,
 * MicroVMSet and MicroVMNode with their spec and status classes, from which the committed CRD YAMLs
 * are generated (each field described once, by its {@code @JsonPropertyDescription}, which the
 * generator puts in the schema for {@code kubectl explain}), plus shared names ({@link
 * dev.hearth.api.v1alpha1.HearthApi}) and condition helpers. Uses only the fabric8 model and
 * Jackson annotations: no client, no VMM.
 */
package dev.hearth.api.v1alpha1;
